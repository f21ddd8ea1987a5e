"""train.card: the model card's history of warm starts."""

from __future__ import annotations


def test_model_card_history_walks_every_warm_start_nearest_first():
    """A fine-tune of a fine-tune names both runs before it, with each one's own steps."""
    from vidstyle.train.card import history, total_steps

    five = {"steps": 6000}
    six = {"steps": 1750, "init": {"model": "p", "styles": ["a", "b"], "recipe": five}}
    face = {"steps": 1200, "init": {"model": "p", "styles": ["a", "b", "c"], "recipe": six}}
    assert history(face) == [
        "started from the weights of `p` (a, b, c; 1750 steps)",
        "started from the weights of `p` (a, b; 6000 steps)",
    ]
    grown = {"steps": 10, "extends": {"model": "q", "styles": ["a"], "recipe": {}}}
    assert history(grown) == ["extends `q` (a; ? steps)"] and history({"steps": 3}) == []
    assert total_steps(face) == 8950 and total_steps(grown) == 10 and total_steps({}) == 0
