"""pydantic's validation errors in Chinese (`duban.app.validation_messages`): per error type,
with the field's Chinese name, never pydantic's English; our own Chinese messages kept."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any, Literal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ConfigDict, Field, HttpUrl, ValidationError, field_validator

from duban.api import instructions as api_instructions
from duban.api import schemas
from duban.app import commands as cmd
from duban.app.validation_messages import ASCII_WORD, translate

NAMES = schemas.FIELD_NAMES

# Codes a person may read in a message (the acceptance test's allow-list): none of pydantic's.
ALLOWED = frozenset({"NUL"})  # duban.app.commands: 「文本不能包含 NUL 控制字符」


def errors_of(model: type[BaseModel], data: Any, *, strict: bool = False) -> list[Any]:
    try:
        if isinstance(data, bytes | str):
            model.model_validate_json(data, strict=strict)
        else:
            model.model_validate(data, strict=strict)
    except ValidationError as exc:
        return list(exc.errors())
    raise AssertionError(f"{model.__name__} accepted {data!r}")


def messages(model: type[BaseModel], data: Any, *, strict: bool = False) -> list[str]:
    return [p["message"] for p in translate(errors_of(model, data, strict=strict), NAMES)]


def english_in(text: str) -> list[str]:
    return [w for w in ASCII_WORD.findall(text) if w not in ALLOWED]


# ---- one error type at a time --------------------------------------------------------------


def test_a_bound_names_the_field_and_the_limit_without_any_identifier() -> None:
    assert messages(cmd.ReportProgress, {"text": "进展", "percent": 101}) == ["进度不能大于100"]
    assert messages(cmd.ReportProgress, {"text": "进展", "percent": -1}) == ["进度不能小于0"]


def test_a_missing_field_is_named_in_chinese() -> None:
    raw = {"code": "2024-01", "title": "任务", "lead_unit": "县财政局"}
    assert messages(cmd.RequestExtension, {"reason": "资金未到位"}) == ["缺少必填项：新的完成时限"]
    milestone = {**raw, "milestones": [{"name": "方案"}]}
    assert messages(cmd.AssignTask, milestone) == ["缺少必填项：第1项阶段节点时限"]
    assert messages(cmd.Milestone, {"name": "方案"}) == ["缺少必填项：时限"]
    assert cmd.AssignTask.model_validate(raw).deadline is None  # optional: not "required"


def test_an_invalid_date_says_what_a_date_looks_like() -> None:
    (text,) = messages(cmd.RequestExtension, {"new_deadline": "2024年9月", "reason": "资金"})
    assert text == "新的完成时限不是有效日期（应为 2026-12-31 格式）"


def test_positions_in_lists_become_rows_and_items() -> None:
    rows = [
        {"code": "2024-01", "title": "任务", "lead_unit": "县财政局"},
        {"code": "2024-02", "title": "任务", "lead_unit": "县财政局", "deadline": "明年"},
    ]
    (text,) = messages(schemas.ImportRequest, {"rows": rows})
    assert text == "第2行完成时限不是有效日期（应为 2026-12-31 格式）"
    milestones = [{"name": "方案", "due": "2024-06-30T00:00:00"}]
    sent = json.dumps({**rows[0], "milestones": milestones}).encode()
    (item,) = messages(cmd.AssignTask, sent, strict=True)
    assert item == "第1项阶段节点时限不是有效日期（应为 2026-12-31 格式）"


def test_text_length_and_emptiness() -> None:
    assert messages(cmd.Decision, {"reason": "  "}) == ["理由不能为空"]
    assert messages(cmd.Decision, {"reason": "长" * 2001}) == ["理由不能超过2000个字"]
    assert messages(schemas.ImportRequest, {"rows": []}) == ["任务清单不能为空"]


def test_a_literal_lists_the_allowed_values_in_chinese() -> None:
    (text,) = messages(cmd.Recognise, {"kind": "pilot", "level": "township", "title": "试点"})
    assert text == "级别应为「国家级」、「省级」、「市级」、「县级」之一"
    (role,) = messages(schemas.IssueToken, {"role": "root"})
    assert role == "角色应为「县委改革办」、「单位联络员」、「领衔领导」、「审计人员」之一"


def test_codes_beside_the_labels_for_who_must_type_them() -> None:
    class Channel(BaseModel):
        platform: Literal["wecom", "dingtalk"]

    (problem,) = translate(errors_of(Channel, {"platform": "qq"}), {}, codes=True)
    assert problem["message"] == "应为「wecom（企业微信）」、「dingtalk（钉钉）」之一"


def test_an_extra_field_is_refused_in_chinese_and_keeps_its_identifier() -> None:
    (problem,) = translate(errors_of(cmd.Decision, {"reason": "x", "mood": "好"}), NAMES)
    assert problem["field"] == "mood"
    assert problem["type"] == "extra_forbidden"
    assert problem["message"] == "不是可填写的项（请检查拼写或删除）"


def test_numbers_booleans_and_patterns_parse_in_chinese() -> None:
    assert messages(cmd.ReportProgress, {"text": "x", "percent": "多"}) == ["进度应为整数"]
    strict = messages(cmd.ReportProgress, b'{"text": "x", "percent": true}', strict=True)
    assert strict == ["进度应为整数"]
    dry = messages(schemas.ImportRequest, {"rows": [{}], "dry_run": "也许"})
    assert "试运行应为布尔值（是或否）" in dry
    (pattern,) = messages(schemas.SubmitPlan, {"plan_code": "方案 1", "title": "方案"})
    assert pattern == "方案编号只能由字母、数字和 - _ . 组成（如 2024-07）"


def test_float_url_and_json() -> None:
    class Odd(BaseModel):
        model_config = ConfigDict(extra="forbid")
        weight: float = Field(gt=0)
        link: HttpUrl | None = None

    names = {"weight": "权重", "link": "链接"}
    got = [p["message"] for p in translate(errors_of(Odd, {"weight": "重"}), names)]
    assert got == ["权重应为数字"]
    got = [p["message"] for p in translate(errors_of(Odd, {"weight": 0, "link": "x"}), names)]
    assert got == ["权重应大于0", "链接不是有效的网址"]
    got = [p["message"] for p in translate(errors_of(Odd, b"{not json"), names)]
    assert got == ["内容无法解析（格式有误）"]


def test_our_own_chinese_messages_keep_their_text_without_the_value_error_prefix() -> None:
    class Own(BaseModel):
        mobile: str

        @field_validator("mobile")
        @classmethod
        def _check(cls, value: str) -> str:
            raise ValueError("手机号应为以1开头的11位数字")

    (problem,) = translate(errors_of(Own, {"mobile": "12"}), {"mobile": "手机号"})
    assert problem["message"] == "手机号应为以1开头的11位数字"
    (nameless,) = translate(errors_of(Own, {"mobile": "12"}), {})
    assert nameless["message"] == "手机号应为以1开头的11位数字"
    (out,) = messages(cmd.RequestExtension, {"new_deadline": "9999-12-31", "reason": "x"})
    assert out.startswith("新的完成时限：日期超出允许范围")


def test_an_english_message_or_an_unknown_type_never_reaches_the_reader() -> None:
    english = {"type": "value_error", "loc": ("evidence", 0), "msg": "Value error, must be http"}
    unknown = {"type": "decimal_max_digits", "loc": ("percent",), "msg": "Decimal input should…"}
    ours = {
        "type": "unknown_unit",
        "loc": ("body", "rows", 1, "lead_unit"),
        "msg": "第2行：单位「县X局」不在名录中",
    }
    got = [p["message"] for p in translate([english, unknown, ours], NAMES)]
    assert got == [
        "第1项佐证材料内容不符合要求",
        "进度内容不符合要求",
        "第2行牵头单位：单位「县X局」不在名录中",
    ]


# ---- the property: whatever our schemas refuse, the reader gets Chinese --------------------

BODIES: list[type[BaseModel]] = [
    cmd.AssignTask,
    cmd.Milestone,
    cmd.Claim,
    cmd.ReportProgress,
    cmd.RequestExtension,
    cmd.DecideExtension,
    cmd.SubmitCompletion,
    cmd.Decision,
    cmd.Recognise,
    cmd.CloseMilestone,
    schemas.ImportRequest,
    schemas.ReportBody,
    schemas.SubmitPlan,
    schemas.ResubmitPlan,
    schemas.ReviewPlan,
    schemas.IssueToken,
    schemas.RevokeToken,
    api_instructions.IssueInstruction,
    api_instructions.AnswerInstruction,
    api_instructions.RecordMeasure,
]

_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**20), max_value=10**20),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12),
    st.text(min_size=4001, max_size=4002, alphabet="长"),
    st.sampled_from(
        ["2024-06-30", "2024-06-30T00:00:00", "9999-12-31", "0001-01-01", "2024年9月", "ftp://x"]
    ),
    st.sampled_from(["red", "pilot", "county", "office", "approve", "nobody", "a\x00b", "\ud800"]),
    st.dates().map(dt.date.isoformat),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=3),
        st.dictionaries(st.sampled_from(["name", "due", "code", "x"]), inner, max_size=3),
    ),
    max_leaves=6,
)


@st.composite
def bodies(draw: st.DrawFn) -> tuple[type[BaseModel], dict[str, Any], bool]:
    model = draw(st.sampled_from(BODIES))
    keys = [*model.model_fields, "mood", "rows", "milestones"]
    data = draw(st.dictionaries(st.sampled_from(keys), _values, max_size=6))
    return model, data, draw(st.booleans())


@settings(
    max_examples=400, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck)
)
@given(case=bodies())
def test_any_error_our_schemas_produce_translates_to_text_with_no_english_word(
    case: tuple[type[BaseModel], dict[str, Any], bool],
) -> None:
    model, data, as_json = case
    for problem in translate(_refusals(model, data, as_json), NAMES):
        assert problem["message"], problem
        assert not english_in(problem["message"]), problem
        assert problem["field"] == ".".join(str(p) for p in problem["loc"])


def _refusals(model: type[BaseModel], data: dict[str, Any], as_json: bool) -> list[Any]:
    """What `model` says of `data` (nothing if it accepts it), leniently or as strict JSON."""
    try:
        if as_json:
            model.model_validate_json(json.dumps(data, ensure_ascii=False), strict=True)
        else:
            model.model_validate(data)
    except ValidationError as exc:
        return list(exc.errors())
    except UnicodeEncodeError:  # a lone surrogate cannot even be sent as JSON
        return []
    return []


def test_every_request_field_has_a_chinese_name() -> None:
    missing = sorted({n for model in BODIES for n in model.model_fields if n not in NAMES})
    assert missing == []
    for model, own in schemas.MODEL_FIELD_NAMES.items():
        assert model in {m.__name__ for m in BODIES}
        assert set(own) <= set(next(m for m in BODIES if m.__name__ == model).model_fields)
