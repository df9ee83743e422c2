import os

from django.core.asgi import get_asgi_application

from kefu.heap import settle_heap

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kefu.settings")
application = get_asgi_application()
settle_heap()
