"""The bus: the only package that imports kombu. Topology, confirming publisher, batch consumer."""
from . import names
from .connection import broker_url, connect, connection_errors
from .consumer import BatchConsumer, Delivery
from .publisher import ConfirmingPublisher, PublishError
from .topology import Binding, declare, declare_retry_queues, purge, queue_depth, take_lock

__all__ = ["names", "broker_url", "connect", "connection_errors", "BatchConsumer", "Delivery",
           "ConfirmingPublisher", "PublishError", "Binding", "declare", "declare_retry_queues", "purge",
           "queue_depth", "take_lock"]
