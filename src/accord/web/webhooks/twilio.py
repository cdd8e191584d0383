"""Answer Twilio's webhooks: delivery reports and the texts customers send us.

Twilio signs each request (``X-Twilio-Signature``) with the account's auth token over the
URL it called and the POST parameters. The URL is rebuilt from ``ACCORD_PUBLIC_URL`` (the
address Twilio was given), not from the request's Host header, so it holds behind a
proxy. A request whose signature is missing or wrong gets 403 and changes nothing; so
does every request while Twilio is not configured (no auth token, nothing to check with).
"""

from __future__ import annotations

import logging
from xml.sax.saxutils import escape

from django.conf import settings
from django.http import (
    HttpRequest,
    HttpResponse,
    HttpResponseBadRequest,
    HttpResponseForbidden,
)
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_POST

from accord.channels import templates
from accord.channels.sms import keywords, twilio
from accord.usecases import sms_events

logger = logging.getLogger(__name__)

ACTOR = "twilio-webhook"
TWIML = "text/xml; charset=utf-8"


def _verified(request: HttpRequest) -> bool:
    url = settings.ENV.public_url + request.get_full_path()
    params = [(name, value) for name, values in request.POST.lists() for value in values]
    valid = twilio.signature_is_valid(
        auth_token=settings.ENV.twilio_auth_token,
        url=url,
        params=params,
        given=request.headers.get(twilio.SIGNATURE_HEADER),
    )
    if not valid:
        logger.warning("Twilio webhook %s refused: bad or missing signature", request.path)
    return valid


@csrf_exempt
@require_POST
def status_callback(request: HttpRequest) -> HttpResponse:
    """Record a delivery report; answer 200 even for a message Accord does not know.

    Twilio treats anything but 2xx as its failure and alerts on it; an unknown message
    (a portal sign-in code, a row deleted since) is logged instead.
    """
    if not _verified(request):
        return HttpResponseForbidden("invalid signature")
    sid = request.POST.get("MessageSid", "").strip()
    said = request.POST.get("MessageStatus", "").strip().lower()
    reported = twilio.delivery_status(said)
    if not sid or reported is None:
        logger.info("Twilio status report without a usable sid or status ignored")
        return HttpResponse(status=200)
    sms_events.record_delivery_report(
        provider_ref=sid,
        idempotency_key=request.GET.get(twilio.KEY_PARAMETER) or None,
        reported=reported,
        provider_said=said,
        error_code=request.POST.get("ErrorCode", "").strip(),
        actor=ACTOR,
        now=timezone.now(),
    )
    return HttpResponse(status=200)


@csrf_exempt
@require_POST
def inbound_message(request: HttpRequest) -> HttpResponse:
    """Act on a customer's text (STOP, START, HELP or a message) and answer it in TwiML."""
    if not _verified(request):
        return HttpResponseForbidden("invalid signature")
    sid = request.POST.get("MessageSid", "").strip()
    if not sid:
        return HttpResponseBadRequest("MessageSid is missing")
    result = sms_events.receive_sms(
        from_number=request.POST.get("From", ""),
        to_number=request.POST.get("To", ""),
        body=request.POST.get("Body", ""),
        message_sid=sid,
        sender=keywords.Sender(
            name=templates.ORGANISATION.name,
            phone=settings.ENV.sms_help_phone or templates.ORGANISATION.phone,
        ),
        actor=ACTOR,
        now=timezone.now(),
    )
    return HttpResponse(twiml(result.reply), content_type=TWIML)


def twiml(reply: str | None) -> str:
    """Return the TwiML document that answers with ``reply`` (or says nothing)."""
    head = '<?xml version="1.0" encoding="UTF-8"?>'
    if reply is None:
        return f"{head}<Response/>"
    return f"{head}<Response><Message>{escape(reply)}</Message></Response>"
