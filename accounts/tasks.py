from celery import shared_task

from accounts import services


@shared_task
def password_reset_process(demand_id: int) -> None:
    services.password_reset_process(demand_id=demand_id)


@shared_task
def password_reset_sweep() -> int:
    return services.password_reset_sweep()
