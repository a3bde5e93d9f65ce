"""The bus: the only package that imports kombu. Topology, confirming publisher, batch consumer."""
from . import credentials, inventory, names
from .connection import UNREACHABLE, broker_url, connect, connection_errors
from .consumer import BatchConsumer, Delivery, ack_all
from .publisher import ConfirmingPublisher, PublishError
from .topology import (Binding, bind_partitions, declare, declare_retry_queues, delete_if_empty, drop_lock, exists,
                       purge, queue_arguments, queue_depth, take_lock, unbind_partitions)

__all__ = ["credentials", "inventory", "names", "UNREACHABLE", "broker_url", "connect", "connection_errors", "BatchConsumer", "Delivery", "ack_all",
           "ConfirmingPublisher", "PublishError", "Binding", "declare", "declare_retry_queues", "purge",
           "queue_depth", "take_lock", "bind_partitions", "unbind_partitions", "delete_if_empty", "drop_lock",
           "exists", "queue_arguments"]
