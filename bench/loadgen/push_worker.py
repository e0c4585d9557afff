"""One push worker process: FcmPushBackend.send() of N messages to the mock FCM named by
FCM_ENDPOINT / FCM_PROJECT_ID. Waits for a line on stdin (so all workers start together),
then prints JSON: count, outcomes, start/end wall clock and the CPU seconds the send took
in this process (all its threads)."""

from __future__ import annotations

import json
import os
import sys
import time
from collections import Counter


def main() -> None:
    count, offset = int(sys.argv[1]), int(sys.argv[2])
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    import django

    django.setup()
    from backend.delivery.push.base import PushMessage
    from backend.delivery.push.fcm import FcmPushBackend

    backend = FcmPushBackend()
    backend.send([PushMessage(token="warm-up-token-0", title="预热", body="预热")])
    messages = [
        PushMessage(
            token=f"bench-token-{offset + i:07d}",
            title="【通知】明日运动会",
            body="压测小学：请穿运动服。",
            data={"notice_id": str(i)},
        )
        for i in range(count)
    ]
    print("READY", flush=True)
    sys.stdin.readline()
    start, cpu0 = time.time(), os.times()
    results = backend.send(messages)
    end, cpu1 = time.time(), os.times()
    print(
        json.dumps(
            {
                "count": len(results),
                "start": start,
                "end": end,
                "cpu_s": (cpu1.user + cpu1.system) - (cpu0.user + cpu0.system),
                "outcomes": Counter(r.outcome.value for r in results),
            }
        ),
        flush=True,
    )
    backend.close()


if __name__ == "__main__":
    main()
