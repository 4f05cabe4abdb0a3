"""Helpers the adapter tests share."""


def poll_until_done(provider, job_id, limit=10):
    """Every state the adapter reports until the job ends; fails the test if it never does."""
    states = []
    for _ in range(limit):
        states.append(provider.poll(job_id))
        if states[-1].status in ("succeeded", "failed", "canceled"):
            return states
    raise AssertionError(f"still running after {limit} polls: {states}")
