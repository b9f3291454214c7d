"""pipeline/contract/severity.py: the one severity order."""
from pipeline.contract.severity import SEVERITIES, severity_rank


def test_order_and_unknown_values():
    assert [severity_rank(s) for s in SEVERITIES] == [0, 1, 2, 3]
    assert severity_rank(" High ") == 2
    assert severity_rank("urgent") == -1 and severity_rank("") == -1 and severity_rank(None) == -1


def test_every_user_of_severities_shares_the_order():
    from pipeline.adapters import webhooks
    from pipeline.domain import escalation

    assert escalation.severity_rank is severity_rank and webhooks.severity_rank is severity_rank
    assert escalation.SEVERITIES is SEVERITIES
