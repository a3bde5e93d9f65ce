"""Every exchange and queue name in one place, so the console, the CLI and the topology agree."""
EVENTS = "tongban.events"          # topic: <dept>.<kind>.<event>, canonical northbound messages
COMMANDS = "tongban.commands"      # topic: <dept>.application.submitted, southbound
UNROUTED = "tongban.unrouted"      # fanout, the alternate exchange of EVENTS and COMMANDS
DLX = "tongban.dlx"                # topic: <stage>.<dept>, dead letters with their reason
DEAD_QUEUE = "tongban.dead"
UNROUTED_QUEUE = "tongban.unrouted"


def destination_queue(destination: str) -> str:
    return f"tongban.to.{destination}"


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
