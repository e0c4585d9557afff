"""Notice tasks: take ids, call fanout, own re-queueing. Each is safe to run twice
(the fan-out cursor and the notice row lock make a repeated chunk a no-op)."""

from __future__ import annotations

from celery import shared_task
from django.utils import timezone

from . import fanout

# Chunks per task run: a district-wide notice is many short tasks, not one long one, so
# a worker restart loses at most one chunk's work (and that chunk rolls back).
CHUNKS_PER_TASK = 10


@shared_task(acks_late=True)
def notice_fanout(notice_id: int) -> bool:
    """Publish the next chunks of a notice; queue itself again until done."""
    done = fanout.notice_fanout_run(notice_id=notice_id, max_chunks=CHUNKS_PER_TASK)
    if not done:
        notice_fanout.delay(notice_id)
    return done


@shared_task(acks_late=True)
def notice_recall_fanout(notice_id: int) -> bool:
    """Tell the next chunks of recipients that a notice was recalled; again until done."""
    done = fanout.notice_recall_run(notice_id=notice_id, max_chunks=CHUNKS_PER_TASK)
    if not done:
        notice_recall_fanout.delay(notice_id)
    return done


@shared_task(acks_late=True)
def notice_publish_scheduled(notice_id: int) -> bool:
    """The eta task of a scheduled notice: publishes it if it is due (a task that fires
    early, twice or after a cancel does nothing; the sweeper covers one that never fires)."""
    if not fanout.notice_claim_scheduled(notice_id=notice_id, now=timezone.now()):
        return False
    notice_fanout.delay(notice_id)
    return True


@shared_task(acks_late=True)
def notices_publish_due() -> int:
    """Every minute (beat): publish scheduled notices that are due and resume fan-outs
    whose worker died. Returns how many notices were queued."""
    publish, recall = fanout.notices_claim_due(now=timezone.now())
    for notice_id in publish:
        notice_fanout.delay(notice_id)
    for notice_id in recall:
        notice_recall_fanout.delay(notice_id)
    return len(publish) + len(recall)
