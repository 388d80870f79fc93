"""Drives a Python client generated from openapi.yaml through a request's
life against the running server: the practitioner submits, the coordinator
triages, the specialist claims and replies, then resolves, and the
practitioner closes. Run by .ci/openapi-lint with the generated package
(`nru_client`) on the path and the seeded accounts in the environment."""

import os
import sys
from uuid import UUID

from nru_client import AuthenticatedClient, Client
from nru_client.api.auth import issue_client_token, sign_in
from nru_client.api.conversation import list_timeline, post_message
from nru_client.api.queue import claim_request
from nru_client.api.requests import (
    close_request,
    list_requests,
    resolve_request,
    submit_request,
    triage_request,
)
from nru_client.models import (
    GuidanceRequest,
    LoginRequest,
    Message,
    MessageKind,
    NewMessage,
    PageRequestSummary,
    PageTimelineItem,
    Priority,
    Problem,
    RequestSummary,
    Status,
    SubmitRequest,
    TimelineItem,
    TokenForm,
    TokenResponse,
    TriageBody,
)

BASE = os.environ["NRU_BASE_URL"]
PASSWORD = os.environ["NRU_PASSWORD"]
TEAM = UUID(os.environ["NRU_TEAM_ID"])


def expect(response, status, kind):
    """The parsed body of an answer with this status and model, or exit."""
    if response.status_code != status or not isinstance(response.parsed, kind):
        sys.exit(
            f"expected {status} {kind.__name__}, got {response.status_code}: "
            f"{response.content.decode(errors='replace')}"
        )
    return response.parsed


def signed_in(email):
    anonymous = Client(base_url=BASE, raise_on_unexpected_status=True)
    answer = sign_in.sync_detailed(
        client=anonymous, body=LoginRequest(email=email, password=PASSWORD)
    )
    tokens = expect(answer, 200, TokenResponse)
    return AuthenticatedClient(
        base_url=BASE, token=tokens.access_token, raise_on_unexpected_status=True
    )


def step(name, request, status):
    if request.status != status:
        sys.exit(f"{name}: status {request.status}, expected {status}")
    print(f"ok  {name}: {request.reference} is {request.status.value}")
    return request


practitioner = signed_in("practitioner@st.local")
coordinator = signed_in("coordinator@st.local")
specialist = signed_in("specialist@st.local")

submission = SubmitRequest.from_dict(
    {
        "title": "Concern about county lines recruitment",
        "description": "A 15-year-old is being groomed to carry drugs between two towns.",
        "category": "child_criminal_exploitation",
        "urgency": "high",
        "young_person": {"age": 15},
        "contact": {"method": "email"},
    }
)
request = expect(
    submit_request.sync_detailed(client=practitioner, body=submission), 201, GuidanceRequest
)
step("submit", request, Status.NEW)

request = expect(
    triage_request.sync_detailed(
        request.id,
        client=coordinator,
        body=TriageBody(priority=Priority.P2, team_id=TEAM),
    ),
    200,
    GuidanceRequest,
)
step("triage", request, Status.TRIAGED)

request = expect(claim_request.sync_detailed(request.id, client=specialist), 200, GuidanceRequest)
step("claim", request, Status.ASSIGNED)

reply = expect(
    post_message.sync_detailed(
        request.id,
        client=specialist,
        body=NewMessage(kind=MessageKind.REPLY, body="Here is our guidance on next steps."),
    ),
    201,
    Message,
)
print(f"ok  reply: message {reply.id}")

request = expect(resolve_request.sync_detailed(request.id, client=specialist), 200, GuidanceRequest)
step("resolve", request, Status.RESOLVED)

request = expect(close_request.sync_detailed(request.id, client=practitioner), 200, GuidanceRequest)
step("close", request, Status.CLOSED)

# Pages hold the named item models, not inline ones.
mine = expect(list_requests.sync_detailed(client=practitioner), 200, PageRequestSummary)
assert any(isinstance(i, RequestSummary) and i.id == request.id for i in mine.items), mine
timeline = expect(
    list_timeline.sync_detailed(request.id, client=practitioner), 200, PageTimelineItem
)
assert timeline.items and all(isinstance(i, TimelineItem) for i in timeline.items), timeline
print(f"ok  timeline: {len(timeline.items)} items")

# A refused client is a problem with its OAuth error, never a token.
refused = issue_client_token.sync_detailed(
    client=Client(base_url=BASE),
    body=TokenForm(
        grant_type="client_credentials",
        client_id=os.environ["NRU_CLIENT_ID"],
        client_secret="not-the-secret",
    ),
)
problem = expect(refused, 401, Problem)
assert problem.error == "invalid_client", problem
print("ok  token error: invalid_client")
