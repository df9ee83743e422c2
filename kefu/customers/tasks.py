from __future__ import annotations

from django_tasks import task

from kefu.core.worker import on_abandon
from kefu.customers.importing import import_job_abandon, import_job_run
from kefu.customers.models import ImportJob


@task()
def run_import_job(*, job_id: int) -> str:
    job = ImportJob.objects.get(pk=job_id)
    return import_job_run(job).status


@on_abandon(run_import_job)
def _import_job_given_up(*, job_id: int) -> None:
    import_job_abandon(job_id=job_id)
