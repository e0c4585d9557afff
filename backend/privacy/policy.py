"""The policy text guardians consent to, versioned in code: a new version is a code change
reviewed like any other, and every consent row names the version it was given for."""

from __future__ import annotations

POLICY_VERSION = "2026-11-01"

POLICY_TITLE = "家校通儿童个人信息保护规则"

POLICY_SUMMARY = """\
根据《中华人民共和国个人信息保护法》第二十八条、第三十一条，不满十四周岁未成年人的个人信息属于敏感个人信息，处理前须取得其监护人的同意。
一、我们处理的信息：孩子的姓名、学号、所在学校与班级（班级花名册），孩子收到的学校通知，孩子的习惯打卡内容（文字、图片、语音、视频）及老师点评，孩子的作业提交内容及老师批改。
二、处理目的：仅用于学校与家庭之间的通知、打卡与作业，不用于商业营销，不向无关第三方提供。
三、可见范围：孩子的打卡与作业默认仅本人、监护人和任课老师可见；老师和管理员查看孩子信息的行为会被记录审计。
四、您的权利：您可以随时撤回同意（撤回后系统不再接收孩子新的打卡和作业，并在班级公开展示中隐藏孩子的内容）；可以导出家庭数据副本；可以申请删除家庭个人信息。
五、保存期限：删除后个人信息即被清除或匿名化；依据《网络安全法》第二十一条，操作日志仅保留编号等必要信息，至少保存六个月。
"""
