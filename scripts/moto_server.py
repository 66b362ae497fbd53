"""Starts moto's server (same arguments as `moto_server`) with DynamoDB made atomic.

moto's server handles requests on threads, but its DynamoDB backend takes no lock: two
concurrent TransactWriteItems can both pass an `attribute_not_exists` condition and both
write, which real DynamoDB never allows (measured: two accounts for one email under 12
concurrent registrations). This serialises every DynamoDB and DynamoDB Streams backend
operation under one lock, and replaces TransactWriteItems' whole-table copies (below).
It also lets `/moto-api/data.json` dump one model (below). Everything else about moto is
unchanged. See docs/decisions.md.
"""

import copy
import functools
import inspect
import json
import sys
import threading
from urllib.parse import parse_qs, urlparse

import moto.dynamodb.models as _models
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


def _transact_write_items(self, transact_items):
    """TransactWriteItems without moto's whole-table copies.

    moto 5.2.5 deep-copies the table (stream records included) once per item of every
    transaction so it can roll back: each transaction costs time and memory proportional to
    everything ever written (measured: 100 job posts took 26 s and 1.4 GB, 200 ran out of
    time). Under the lock above nothing interleaves, so this checks every condition first
    and writes only when all pass, keeping copies of just the items it touches for the rare
    error in the middle of the writes. Results and errors are moto's own.
    """
    m = _models
    if len(transact_items) > 100:
        raise m.TooManyTransactionsException()
    target_items = set()
    plan = []
    errors = []
    for item in transact_items:
        original_item = None
        if len(list(item.keys())) > 1:
            raise m.TransactWriteSingleOpException
        try:
            op_type, op = next(iter(item.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            if op_type == "Put":
                attrs = op["Item"]
                table = self.get_table(table_name)
                key = {table.hash_key_attr: attrs[table.hash_key_attr]}
                if table.range_key_attr is not None:
                    key[table.range_key_attr] = attrs[table.range_key_attr]
            else:
                key = op["Key"]
            unique = (str(table_name), str(dict(sorted(key.items()))))
            if unique in target_items:
                raise m.MultipleTransactionsException()
            target_items.add(unique)
            current = self.get_item(table_name, key)
            condition_expression = op.get("ConditionExpression")
            if condition_expression is not None:
                condition_op = m.get_filter_expression(
                    condition_expression,
                    op.get("ExpressionAttributeNames"),
                    op.get("ExpressionAttributeValues"),
                )
                if not condition_op.expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_item = current.to_json()["Attributes"]
                    raise m.ConditionalCheckFailed(item=original_item)
            plan.append((op_type, op, table_name, key, copy.deepcopy(current)))
            errors.append((None, None, None))
        except (m.MultipleTransactionsException, m.MockValidationException):
            raise
        except m.ConditionalCheckFailed as e:
            errors.append(("ConditionalCheckFailed", str(e.message), original_item))
        except Exception as e:  # noqa: E722 as moto does: reported per item
            errors.append((type(e).__name__, str(e), original_item))
    if any(code is not None for code, _, _ in errors):
        raise m.TransactionCanceledException(errors)

    done = []
    try:
        for op_type, op, table_name, key, before in plan:
            # The condition goes along as moto passes it (it holds: nothing changed since).
            expr = dict(
                condition_expression=op.get("ConditionExpression"),
                expression_attribute_names=op.get("ExpressionAttributeNames"),
                expression_attribute_values=op.get("ExpressionAttributeValues"),
            )
            if op_type == "Put":
                self.put_item(table_name, op["Item"], **expr)
            elif op_type == "Delete":
                self.delete_item(table_name, key, **expr)
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"], **expr)
            done.append((op_type, table_name, key, before))
    except Exception:
        for op_type, table_name, key, before in reversed(done):
            if op_type == "ConditionCheck":
                continue
            if before is None:
                self.delete_item(table_name, key)
            else:
                self.put_item(table_name, before.to_json()["Attributes"])
        raise


def _model_data(request, full_url, headers):
    """`/moto-api/data.json`, or with `?service=ses&model=Message` only that model's instances.

    The whole dump walks every model instance moto ever made (DynamoDB items and their
    copies included) and grows with everything a test run wrote: measured 0.3 s and 0.7 MB
    after 9 tests, seconds late in the suite, while tests wait for a mail by polling it. One
    model's part is the same JSON, built from that model's instances only.
    """
    from moto.core.model_instances import model_data
    from moto.moto_api._internal import urls

    query = parse_qs(urlparse(full_url).query)
    service, name = query.get("service", [""])[0], query.get("model", [""])[0]
    if not service or not name:
        return urls.response_instance.model_data(request, full_url, headers)
    model = model_data.get(service, {}).get(name)
    found = []
    for instance in getattr(model, "instances_tracked", []):
        fields = {}
        for attr in dir(instance):
            if attr.startswith("_"):
                continue
            try:
                value = getattr(instance, attr)
                json.dumps(value)
            except (TypeError, AttributeError, ValueError):
                continue
            fields[attr] = value
        found.append(fields)
    return 200, {"Content-Type": "application/json"}, json.dumps({service: {name: found}})


def _route_model_data():
    from moto.moto_api._internal import urls

    urls.url_paths["{0}/moto-api/data.json"] = _model_data


_models.DynamoDBBackend.transact_write_items = _transact_write_items
_serialise(DynamoDBBackend)
_serialise(DynamoDBStreamsBackend)
_route_model_data()

if __name__ == "__main__":
    from moto.server import main

    sys.exit(main(sys.argv[1:]))
