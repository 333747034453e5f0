"""CRM hand-off: HubSpot and Salesforce connectors, both ways.

    settings.py  connector settings: the field mapping (YAML over defaults), credentials
    fields.py    a lead's values by meaning, and the push/pull result shapes
    hubspot.py   HubSpot contacts (hubspot-api-client): batch upsert, forward-only lifecycle
    salesforce.py Salesforce leads (simple-salesforce): upsert by External ID, SOQL pull
    pull_map.py  a CRM record's sales fields -> one leadgate sales action
    sync.py      the outbox consumer (queue, push, backoff) and applying pulled outcomes

The vendor clients are the ``crm`` extra (``pip install leadgate[crm]``); they are imported only
when a connector talks to its CRM.
"""

from leadgate.crm.settings import KINDS, Connector, CrmError
from leadgate.crm.sync import PullReport, PushReport, open_client, pull, push, retry_failed

__all__ = ["KINDS", "Connector", "CrmError", "PullReport", "PushReport", "open_client", "pull",
           "push", "retry_failed"]  # fmt: skip
