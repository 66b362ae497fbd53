"""Starts moto's server (same arguments as `moto_server`) with DynamoDB made atomic.

moto's server handles requests on threads, but its DynamoDB backend takes no lock: two
concurrent TransactWriteItems can both pass an `attribute_not_exists` condition and both
write, which real DynamoDB never allows (measured: two accounts for one email under 12
concurrent registrations). This serialises every DynamoDB and DynamoDB Streams backend
operation under one lock; everything else about moto is unchanged. See docs/decisions.md.
"""

import functools
import inspect
import sys
import threading

from moto.dynamodb.models import DynamoDBBackend
from moto.dynamodbstreams.models import DynamoDBStreamsBackend

_LOCK = threading.RLock()


def _serialise(cls):
    for name, fn in list(vars(cls).items()):
        if name.startswith("_") or not inspect.isfunction(fn):
            continue

        @functools.wraps(fn)
        def locked(*args, __fn=fn, **kwargs):
            with _LOCK:
                return __fn(*args, **kwargs)

        setattr(cls, name, locked)


_serialise(DynamoDBBackend)
_serialise(DynamoDBStreamsBackend)

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
