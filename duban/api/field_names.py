"""The Chinese name of every field an API request may carry: error messages name fields by
these (`duban.api.errors`), the JSON keeps the identifiers. Re-exported by `duban.api.schemas`."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

__all__ = ["FIELD_NAMES", "MODEL_FIELD_NAMES"]

FIELD_NAMES: Mapping[str, str] = MappingProxyType(
    {
        # tasks (duban.app.commands.AssignTask, one row of the 改革要点 list)
        "code": "任务编号",
        "title": "改革任务",
        "lead_unit": "牵头单位",
        "co_units": "配合单位",
        "official": "领衔领导",
        "group": "专责小组",
        "area": "改革领域",
        "deadline": "完成时限",
        "deadline_text": "完成时限（原文）",
        "milestones": "阶段节点",
        "milestones.name": "阶段节点名称",
        "milestones.due": "阶段节点时限",
        "due": "时限",
        "notes": "备注",
        "rows": "任务清单",
        "dry_run": "试运行",
        # the lifecycle
        "text": "报送内容",
        "percent": "进度",
        "evidence": "佐证材料",
        "files": "附件",
        "milestone": "阶段节点",
        "answers": "所答复的批示",
        "new_deadline": "新的完成时限",
        "reason": "理由",
        "summary": "办结情况",
        "kind": "类别",
        "level": "级别",
        "name": "名称",
        # plans (前置初审)
        "plan_code": "方案编号",
        "task_code": "任务编号",
        "unit": "单位",
        "verdict": "审核结论",
        # tokens
        "role": "角色",
        "token_id": "令牌编号",
        # 批示 and 问责
        "answer_by": "答复时限",
        "number": "批示序号",
        "document_no": "文号",
        "date": "日期",
        "year": "年度",
        # query parameters
        "light": "灯色",
        "task": "任务编号",
        "since": "起始日期",
    }
)
"""The Chinese name of every field a request may carry (body, query and path), by name; a
dotted key is more specific (`milestones.due`). Error messages name fields by these."""

MODEL_FIELD_NAMES: Mapping[str, Mapping[str, str]] = MappingProxyType(
    {
        "ReportProgress": {"text": "进展情况"},
        "CloseMilestone": {"name": "阶段节点名称"},
        "Recognise": {"title": "表彰推广名称"},
        "SubmitPlan": {"title": "方案名称", "text": "方案内容"},
        "ResubmitPlan": {"title": "方案名称", "text": "方案内容"},
        "ReviewPlan": {"text": "审核意见"},
        "IssueToken": {"name": "持有人姓名", "reason": "签发理由"},
        "RevokeToken": {"reason": "吊销理由"},
        "IssueInstruction": {"text": "批示内容"},
        "AnswerInstruction": {"text": "答复内容"},
        "RecordMeasure": {"kind": "问责方式", "date": "措施日期"},
    }
)
"""Where a request body names a field differently (the `title` of a plan is 方案名称), by the
body's class name; these take precedence over `FIELD_NAMES`."""
