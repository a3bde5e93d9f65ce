"""Every exchange and queue name in one place, so the console, the CLI and the topology agree."""
SCHEMA_VERSION = 1                 # of the messages on the wire (hub.model.envelope.SCHEMA_VERSION: the same)
EVENTS = "tongban.events"          # topic: <dept>.<kind>.<event>, canonical northbound messages
COMMANDS = "tongban.commands"      # topic: <dept>.application.submitted, southbound
COMPARE = "tongban.compare"        # fanout: both tracks' canonical messages in the dual-track modes
COMPARE_QUEUE = "tongban.compare"
UNROUTED = "tongban.unrouted"      # fanout, the alternate exchange of EVENTS and COMMANDS
DLX = "tongban.dlx"                # topic: <stage>.<dept>, dead letters with their reason
DEAD_QUEUE = "tongban.dead"
UNROUTED_QUEUE = "tongban.unrouted"


DELAY = "tongban.delay"              # headers: retry copies to their delay queue (tongban-delay)


def destination_exchange(destination: str) -> str:
    """Headers exchange of a destination: its route bindings come in from tongban.events or
    tongban.commands, its partition queues are bound by slot (hub/routing/partitions.py)."""
    return f"tongban.to.{destination}"


def partition_queue(destination: str, index: int, partitions: int) -> str:
    """Partition `index` of a layout of `partitions`: "tongban.to.platform.2of4". The layout
    is in the name, so a change of P declares a fresh set and the old one drains."""
    return f"tongban.to.{destination}.{index}of{partitions}"


def partition_of_queue(queue: str) -> tuple[int, int] | None:
    """(index, partitions) of a partition queue's name; None for any other queue."""
    tail = queue.rsplit(".", 1)[-1]
    index, sep, count = tail.partition("of")
    if not (sep and index.isdigit() and count.isdigit()):
        return None
    return int(index), int(count)


def partition_queues(destination: str, partitions: int) -> list[str]:
    return [partition_queue(destination, i, partitions) for i in range(partitions)]


def destination_queue(destination: str) -> str:
    """The single queue of a destination before partitions (a layout of 0, drained on upgrade)."""
    return f"tongban.to.{destination}"


def lock_queue(queue: str) -> str:
    """An exclusive, connection-owned queue used as a lock: whoever declared it consumes `queue`."""
    return f"tongban.lock.{queue[len('tongban.'):] if queue.startswith('tongban.') else queue}"


def delay_label(delay_ms: int) -> str:
    """5000 -> "5s", 300000 -> "5m": the delay is in the name, so changing a tier's delay
    declares a new queue instead of failing on the old one's different x-message-ttl."""
    if delay_ms % 60000 == 0:
        return f"{delay_ms // 60000}m"
    if delay_ms % 1000 == 0:
        return f"{delay_ms // 1000}s"
    return f"{delay_ms}ms"


def retry_queue(destination: str, delay_ms: int) -> str:
    """Where a message waits before its next delivery attempt; it expires back to
    destination_exchange(destination), which puts it in its case's partition again."""
    return f"tongban.delay.{destination}.{delay_label(delay_ms)}"


def legacy_retry_queue(destination: str, delay_ms: int) -> str:
    """The retry queue of the single-queue layout; it expires into destination_queue()."""
    return f"tongban.retry.{destination}.{delay_label(delay_ms)}"


# Headers carried by messages (invariant 7: counts travel in the message, not in memory).
H_ATTEMPTS = "x-tongban-attempts"
H_STAGE = "x-tongban-stage"
H_REASON = "x-tongban-reason"
H_DESTINATION = "x-tongban-destination"
H_DEPARTMENT = "x-tongban-department"
H_RECORD_KEY = "x-tongban-record-key"
H_CASE_NO = "x-tongban-case-no"
H_FIRST_FAILED = "x-tongban-first-failed-at"
H_LAST_FAILED = "x-tongban-last-failed-at"
H_DEAD_LETTER_ID = "x-tongban-dead-letter-id"
H_ROUTING_KEY = "x-tongban-original-routing-key"
H_TRACK = "x-tongban-track"
H_SEQUENCE = "x-tongban-sequence"
H_KIND = "x-tongban-kind"
H_REPLAYED_FROM = "x-tongban-replayed-from"   # the dead letter a replayed message came from
H_MESSAGE_ID = "x-tongban-message-id"         # a dead letter's: the id of the message it holds (if any)
# Matched by headers exchanges, which ignore every header whose name starts with "x-": so
# these two have no "x-" prefix.
H_SLOT = "tongban-slot"                       # the case's partition slot (hub/routing/partitions.py)
H_DELAY = "tongban-delay"                     # which delay queue a retry copy is for
H_SUPERSEDES = "x-tongban-supersedes"         # an update: the message id of the version it replaces
H_READ_THROUGH = "x-tongban-read-through"     # the source had read steps 1..n of the case before this one
H_READ_MAX = "x-tongban-read-max"             # and none higher than this
H_SEQ_MODE = "x-tongban-sequence-mode"       # how the source numbers the case's steps (hub/runtime/sequence.py)
H_FENCE_FOR = "x-tongban-fence-for"           # the source waiting for this fence (hub/runtime/takeover.py)
H_PRODUCED = "x-tongban-produced"             # unix time the envelope was made: the latency metric's start
FENCE = "fence"                               # H_KIND of a fence on tongban.compare: no envelope
