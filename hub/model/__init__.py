"""Canonical model of government service data (pydantic v2). Knows nothing of transports."""
from .applicant import Applicant, ApplicantKind, IdType
from .application import Application
from .case import Case, CaseEvent, Certificate, Channel, EventType, Material, EVENT_LABELS
from .common import SHANGHAI, DEPARTMENT_PATTERN, Department, Track
from .envelope import Envelope, Source, message_id, routing_key, event_name
from .service_item import ServiceCategory, ServiceItem, ServiceLevel, CATEGORY_LABELS

MODELS = {
    "applicant": Applicant,
    "service_item": ServiceItem,
    "case": Case,
    "case_event": CaseEvent,
    "certificate": Certificate,
    "application": Application,
    "envelope": Envelope,
}

__all__ = [
    "Applicant", "ApplicantKind", "IdType", "Application", "Case", "CaseEvent", "Certificate",
    "Channel", "EventType", "Material", "EVENT_LABELS", "SHANGHAI", "DEPARTMENT_PATTERN",
    "Department", "Track", "Envelope", "Source", "message_id", "routing_key", "event_name",
    "ServiceCategory", "ServiceItem", "ServiceLevel", "CATEGORY_LABELS", "MODELS",
]
