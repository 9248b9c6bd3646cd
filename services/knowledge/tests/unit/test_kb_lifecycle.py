"""Article lifecycle and permissions in the domain: legal steps move, illegal ones refuse."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

import pytest

from knowledge import domain
from knowledge.domain import Actor, ArticleContent, Forbidden, IllegalTransition
from opsdesk_shared.contracts.knowledge import KbArticlePublishedV1

ALL_STATES = ("draft", "in_review", "published", "retired")
LEGAL = {
    ("submit", "draft"): "in_review",
    ("publish", "in_review"): "published",
    ("return", "in_review"): "draft",
    ("retire", "published"): "retired",
    ("restore", "retired"): "draft",
}


def _article(content: ArticleContent, actor: Actor, now: datetime, state: str = "draft") -> domain.Article:
    article, _ = domain.create_article(content, actor=actor, now=now)
    return article.model_copy(update={"state": state})


@pytest.mark.parametrize(("action", "state"), [(a, s) for a in domain.TRANSITIONS for s in ALL_STATES])
def test_each_action_moves_only_from_its_states(
    action: str, state: str, content: Callable[..., ArticleContent], curator: Actor, now: datetime
) -> None:
    article = _article(content(), curator, now, state)
    if (action, state) in LEGAL:
        updated, _ = domain.transition(article, action, actor=curator, now=now)
        assert updated.state == LEGAL[(action, state)]
        assert updated.log[-1].action == action and updated.log[-1].from_state == state
    else:
        with pytest.raises(IllegalTransition):
            domain.transition(article, action, actor=curator, now=now)


def test_publishing_records_the_version_and_announces_it(content: Callable[..., ArticleContent], curator: Actor, now: datetime) -> None:
    article = _article(content(), curator, now, "in_review")
    published, events = domain.transition(article, "publish", actor=curator, now=now)
    assert published.published_version == 1 and published.published_at == now
    assert len(events) == 1 and isinstance(events[0], KbArticlePublishedV1)
    assert events[0].article_id == article.id and events[0].published_by == curator.user


def test_editing_makes_a_new_version_and_republishes_a_published_article(
    content: Callable[..., ArticleContent], curator: Actor, now: datetime
) -> None:
    article = _article(content(), curator, now, "published")
    edited, version, events = domain.edit_article(article, content(title="打印機卡紙（新版）"), actor=curator, now=now)
    assert edited.version == 2 and version is not None and version.version == 2
    assert [type(e) for e in events] == [KbArticlePublishedV1] and events[0].version == 2  # type: ignore[attr-defined]


def test_unchanged_edit_makes_no_version(content: Callable[..., ArticleContent], curator: Actor, now: datetime) -> None:
    article = _article(content(), curator, now)
    same, version, events = domain.edit_article(article, content(), actor=curator, now=now)
    assert same is article and version is None and events == []


def test_engineer_submits_a_document_as_a_draft_submission(
    content: Callable[..., ArticleContent], engineer: Actor, now: datetime
) -> None:
    article, version = domain.create_article(content(), actor=engineer, now=now)
    assert article.state == "draft" and article.source == "submission" and article.author == engineer.user
    assert version.version == 1
    submitted, _ = domain.transition(article, "submit", actor=engineer, now=now)
    assert submitted.state == "in_review"


@pytest.mark.parametrize("action", ["publish", "return", "retire", "restore"])
def test_engineer_cannot_curate(action: str, content: Callable[..., ArticleContent], engineer: Actor, now: datetime) -> None:
    state = {"publish": "in_review", "return": "in_review", "retire": "published", "restore": "retired"}[action]
    article = _article(content(), engineer, now, state)
    with pytest.raises(Forbidden):
        domain.transition(article, action, actor=engineer, now=now)


def test_engineer_cannot_edit_someone_elses_draft_or_own_published(
    content: Callable[..., ArticleContent], engineer: Actor, curator: Actor, now: datetime
) -> None:
    with pytest.raises(Forbidden):
        domain.edit_article(_article(content(), curator, now), content(title="x"), actor=engineer, now=now)
    with pytest.raises(Forbidden):
        domain.edit_article(_article(content(), engineer, now, "published"), content(title="x"), actor=engineer, now=now)


@pytest.mark.parametrize("role", ["requester", "auditor", "manager"])
def test_roles_without_writing_rights_cannot_create(role: str, content: Callable[..., ArticleContent], now: datetime) -> None:
    with pytest.raises(Forbidden):
        domain.create_article(content(), actor=Actor(user="x", role=role), now=now)


@pytest.mark.parametrize(
    ("role", "state", "audience", "visible"),
    [
        ("requester", "published", "all", True),
        ("requester", "published", "engineers", False),
        ("requester", "published", "desk", False),
        ("requester", "draft", "all", False),
        ("engineer", "published", "engineers", True),
        ("engineer", "published", "desk", False),
        ("engineer", "in_review", "all", False),
        ("agent", "draft", "desk", True),
        ("manager", "retired", "engineers", True),
        ("auditor", "in_review", "desk", True),
        ("admin", "draft", "desk", True),
    ],
)
def test_who_sees_what(role: str, state: str, audience: str, visible: bool) -> None:
    attrs = domain.DocAttrs(state=state, audience=audience, category="c", author="someone-else")
    assert domain.may_see(attrs, Actor(user="me", role=role)) is visible


def test_engineer_sees_own_drafts() -> None:
    attrs = domain.DocAttrs(state="draft", audience="desk", category="c", author="eng-chen")
    assert domain.may_see(attrs, Actor(user="eng-chen", role="engineer"))
