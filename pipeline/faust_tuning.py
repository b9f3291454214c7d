"""A measured fix to faust-streaming 0.15.3's consumer (pinned in pyproject; see docs/benchmarks.md).

faust hard-codes `fetch_max_wait_ms=1500` for its aiokafka consumer; one consumer fetches every topic of a worker,
so each internal hop could sit out a long fetch. Capped here. (A faster fetch loop — `on_message` run eagerly
instead of four tasks and an `asyncio.wait` per record, +43 % mentions/s — was built and taken out again: with it
the SIGKILL fault test lost or stranded records around faust's resume-before-seek after a restart; see
docs/benchmarks.md.)"""
from __future__ import annotations


def short_fetch_wait(max_wait_ms: int) -> None:
    """Cap faust's consumer `fetch_max_wait_ms` (faust offers no setting for it)."""
    import aiokafka
    from faust.transport.drivers import aiokafka as driver

    if getattr(driver.aiokafka, "_socialpulse_patched", False):
        return
    original = aiokafka.AIOKafkaConsumer

    class Consumer(original):  # type: ignore[misc, valid-type]
        def __init__(self, *args, **kwargs):
            if kwargs.get("fetch_max_wait_ms", 0) > max_wait_ms:
                kwargs["fetch_max_wait_ms"] = max_wait_ms
            super().__init__(*args, **kwargs)

    driver.aiokafka = type(aiokafka)("aiokafka_for_faust")
    driver.aiokafka.__dict__.update(aiokafka.__dict__, AIOKafkaConsumer=Consumer, _socialpulse_patched=True)
