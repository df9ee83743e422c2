from __future__ import annotations

from django_tasks import task

from kefu.customers.importing import import_job_run
from kefu.customers.models import ImportJob


@task()
def run_import_job(*, job_id: int) -> str:
    job = ImportJob.objects.get(pk=job_id)
    return import_job_run(job).status
