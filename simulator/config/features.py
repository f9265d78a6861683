"""Per-channel settings of the customer-side extras: the satisfaction survey, the phrase
list of queryPhraseByKeyword and click-to-call (vendor web-channel pages, part 2 §2, reference §3.9
to §3.12).

Frozen dataclasses with embedded defaults, each built from its checked YAML/JSON form by
``from_document`` and written back by ``to_document``; the defaults equal the ``default``
annotations of ``schemas/config.schema.json`` (``$defs/satisfaction``, ``$defs/phrases``,
``$defs/click_to_call``). Every value the vendor leaves undocumented is here, so a team can
set the one its tenant uses (README "Assumptions").
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

__all__ = [
    "CALL_EVENTS",
    "DEFAULT_LEVELS",
    "DEFAULT_PHRASES",
    "CallEvent",
    "CallEventIds",
    "ClickToCallConfig",
    "PhraseConfig",
    "SatisfactionConfig",
    "SurveyQuestion",
]

SurveyQuestion = Literal["CSAT", "NPS", "FCR"]
#: The five click-to-call events of getClickToCallEvents (vendor web-channel pages, part 2 §2.3).
CallEvent = Literal["queuing", "connected", "queue-timeout", "released", "failed"]
CALL_EVENTS: Final[tuple[CallEvent, ...]] = (
    "queuing",
    "connected",
    "queue-timeout",
    "released",
    "failed",
)

#: satisfactionLevelDesc of levels 1-5 per survey language. zh_CN is the reference's list
#: (§3.10); the others are the simulator's translations of it.
DEFAULT_LEVELS: Final[tuple[tuple[str, tuple[str, ...]], ...]] = tuple(
    sorted(
        (
            ("zh_CN", ("很不满意", "不满意", "一般", "满意", "很满意")),
            (
                "en_US",
                ("Very dissatisfied", "Dissatisfied", "Neutral", "Satisfied", "Very satisfied"),
            ),
            (
                "pt_BR",
                ("Muito insatisfeito", "Insatisfeito", "Neutro", "Satisfeito", "Muito satisfeito"),
            ),
            ("ar_SA", ("غير راض جدا", "غير راض", "محايد", "راض", "راض جدا")),
            ("fr_FR", ("Très insatisfait", "Insatisfait", "Neutre", "Satisfait", "Très satisfait")),
            (
                "es_ES",
                ("Muy insatisfecho", "Insatisfecho", "Neutral", "Satisfecho", "Muy satisfecho"),
            ),
        )
    )
)

#: queryPhraseByKeyword's FAQ questions per locale language; the first zh entry is the
#: vendor's example answer (reference §3.9).
DEFAULT_PHRASES: Final[tuple[tuple[str, tuple[str, ...]], ...]] = tuple(
    sorted(
        (
            (
                "zh",
                (
                    "网格版APP在哪里下载",
                    "网格版APP如何登录",
                    "如何修改密码",
                    "如何查询订单",
                    "如何转人工服务",
                ),
            ),
            (
                "en",
                (
                    "How do I reset my password?",
                    "How do I track my order?",
                    "How do I change my delivery address?",
                    "How do I cancel my order?",
                    "How do I talk to an agent?",
                    "Where can I download the app?",
                ),
            ),
            (
                "pt",
                (
                    "Como redefinir minha senha?",
                    "Como rastrear meu pedido?",
                    "Como cancelar meu pedido?",
                    "Como falar com um atendente?",
                ),
            ),
        )
    )
)


def _pairs(value: Mapping[str, Any]) -> tuple[tuple[str, tuple[str, ...]], ...]:
    # sorted by key: a mapping's order carries no meaning (YAML dumps sort keys), and equal
    # settings must compare equal
    return tuple(sorted((key, tuple(items)) for key, items in value.items()))


@dataclass(frozen=True, slots=True)
class SatisfactionConfig:
    """What getsatisfactionsurveymode answers, and which language answers a request."""

    survey_type: Literal["WEB", "NO"] = "WEB"
    """``WEB``: a survey is configured; ``NO``: none (§7.1 step 13: straight to DISCONNECT)."""
    questions: tuple[SurveyQuestion, ...] = ("CSAT",)
    """``satisfactionQuestion``: which of CSAT, NPS and FCR the survey asks."""
    default_language: str = "zh_CN"
    """The tenant provisioning language: answers an empty, missing or unknown ``language``."""
    levels: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_LEVELS
    """Level descriptions 1-5 per survey language (its keys are the supported languages)."""

    def descriptions(self, language: str | None) -> tuple[str, tuple[str, ...]]:
        """The language that answers ``language`` and its five descriptions."""
        table = dict(self.levels)
        if language and language in table:
            return language, table[language]
        if self.default_language in table:
            return self.default_language, table[self.default_language]
        first = self.levels[0]
        return first[0], first[1]

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> SatisfactionConfig:
        """Build from the checked ``satisfaction`` mapping (keys left out: defaults)."""
        given: dict[str, Any] = {}
        if "survey_type" in doc:
            given["survey_type"] = doc["survey_type"]
        if "questions" in doc:
            given["questions"] = tuple(doc["questions"])
        if "default_language" in doc:
            given["default_language"] = doc["default_language"]
        if "levels" in doc:
            given["levels"] = _pairs(doc["levels"])
        return cls(**given)

    def to_document(self) -> dict[str, Any]:
        """The YAML/JSON form."""
        return {
            "survey_type": self.survey_type,
            "questions": list(self.questions),
            "default_language": self.default_language,
            "levels": {language: list(texts) for language, texts in self.levels},
        }


@dataclass(frozen=True, slots=True)
class PhraseConfig:
    """queryPhraseByKeyword's FAQ list."""

    require_robot: bool = False
    """The vendor says the call needs a robot on the channel; true answers resultCode 1
    "Robot is no exsit" on a channel without one."""
    max_results: int = 5
    """Suggestions per answer; the vendor's maximum is 5."""
    by_locale: tuple[tuple[str, tuple[str, ...]], ...] = DEFAULT_PHRASES
    """Questions per locale language (``zh`` serves ``zh`` and ``zh_CN``)."""

    def questions(self, locale: str) -> tuple[str, ...] | None:
        """The list for ``locale`` (exact, else its language part), None if unknown."""
        table = dict(self.by_locale)
        if locale in table:
            return table[locale]
        language = locale.replace("-", "_").split("_", 1)[0].lower()
        return table.get(language)

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> PhraseConfig:
        """Build from the checked ``phrases`` mapping."""
        given: dict[str, Any] = {}
        if "require_robot" in doc:
            given["require_robot"] = doc["require_robot"]
        if "max_results" in doc:
            given["max_results"] = doc["max_results"]
        if "by_locale" in doc:
            given["by_locale"] = _pairs(doc["by_locale"])
        return cls(**given)

    def to_document(self) -> dict[str, Any]:
        """The YAML/JSON form."""
        return {
            "require_robot": self.require_robot,
            "max_results": self.max_results,
            "by_locale": {locale: list(items) for locale, items in self.by_locale},
        }


@dataclass(frozen=True, slots=True)
class CallEventIds:
    """``eventId`` per call event. Only 168101 (connected) is documented (devg example);
    the others are the simulator's choice."""

    queuing: int = 168100
    connected: int = 168101
    released: int = 168102
    queue_timeout: int = 168103
    failed: int = 168104

    def of(self, event: CallEvent) -> int:
        """The id of ``event``."""
        return int(getattr(self, event.replace("-", "_")))


def _event_ids_document(ids: CallEventIds) -> dict[str, int]:
    return {name: getattr(ids, name) for name in ids.__dataclass_fields__}


@dataclass(frozen=True, slots=True)
class ClickToCallConfig:
    """checkClickToCallSupport's flags, createClickToCall's rules and the call events."""

    supported: bool = True
    """``clickToCallSupported``; false answers createClickToCall with resultCode 7."""
    webrtc_supported: bool = True
    """``webRTCSupported``."""
    scenario: str | None = "call-connected"
    """Scenario started by createClickToCall (its ``call_event`` steps make the events);
    null = none (events only come from the admin API)."""
    require_agent: bool = True
    """createClickToCall needs a live chat session with an agent (the page: "after the user
    has reached an agent"); otherwise resultCode 13 "No agents available currently"."""
    devg_codes: bool = True
    """true: 7 (not supported) and 12 (outside working hours) as the devg 2024 page; false:
    13 for both, as the 2025 page (which lists 0 and 13 only)."""
    numeric_ids: bool = True
    """true: ``eventId``, ``causeId`` and ``accessCode`` are JSON numbers, as the example and
    the legacy page; false: strings, as the API reference's table."""
    event_ids: CallEventIds = field(default_factory=CallEventIds)
    access_code: str = "4001"
    """``content.accessCode``: the called number of the call."""
    caller: str = "70001"
    """``content.clickToCallCaller`` of the connected event."""
    domain: str = "webrtc.aicc-simulator.invalid"
    """``content.domain`` of the connected event (WebRTC gateway domain)."""
    gw_addresses: tuple[str, ...] = ("192.0.2.10:8443",)
    """``content.gwAddresses`` of the connected event (address:port)."""
    cause_id: str = "1"
    """``content.causeId`` of the failed event."""
    cause_desc: str = "The call failed."
    """``content.causeDesc`` of the failed event."""

    @classmethod
    def from_document(cls, doc: Mapping[str, Any]) -> ClickToCallConfig:
        """Build from the checked ``click_to_call`` mapping."""
        given: dict[str, Any] = {
            key: doc[key]
            for key in (
                "supported",
                "webrtc_supported",
                "scenario",
                "require_agent",
                "devg_codes",
                "numeric_ids",
                "access_code",
                "caller",
                "domain",
                "cause_id",
                "cause_desc",
            )
            if key in doc
        }
        if "gw_addresses" in doc:
            given["gw_addresses"] = tuple(doc["gw_addresses"])
        if "event_ids" in doc:
            given["event_ids"] = CallEventIds(**doc["event_ids"])
        return cls(**given)

    def to_document(self) -> dict[str, Any]:
        """The YAML/JSON form."""
        return {
            "supported": self.supported,
            "webrtc_supported": self.webrtc_supported,
            "scenario": self.scenario,
            "require_agent": self.require_agent,
            "devg_codes": self.devg_codes,
            "numeric_ids": self.numeric_ids,
            "event_ids": _event_ids_document(self.event_ids),
            "access_code": self.access_code,
            "caller": self.caller,
            "domain": self.domain,
            "gw_addresses": list(self.gw_addresses),
            "cause_id": self.cause_id,
            "cause_desc": self.cause_desc,
        }
