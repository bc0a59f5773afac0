import threading
from decimal import Decimal

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Sum
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from billing.models import LedgerAccount, LedgerLine, LedgerTransaction
from billing.services import LedgerEntry, ledger_account, ledger_post, ledger_reverse
from core.errors import ApplicationError
from tests.factories import OrganizationFactory, UserFactory

Kind = LedgerAccount.Kind


def _accounts(currency: str = "USD"):
    client = OrganizationFactory(kind="client")
    return {
        "clearing": ledger_account(kind=Kind.PROCESSOR_CLEARING, currency=currency),
        "revenue": ledger_account(kind=Kind.PLATFORM_REVENUE, currency=currency),
        "escrow": ledger_account(kind=Kind.CLIENT_ESCROW, currency=currency, organization=client),
        "payable": ledger_account(kind=Kind.WORKER_PAYABLE, currency=currency, user=UserFactory()),
    }


def _fund(a, amount: str, fee: str, reference: str) -> LedgerTransaction:
    total = Decimal(amount) + Decimal(fee)
    return ledger_post(
        kind=LedgerTransaction.Kind.ESCROW_FUNDED,
        reference=reference,
        description="Milestone funded",
        entries=[
            LedgerEntry(a["clearing"], total),
            LedgerEntry(a["escrow"], -Decimal(amount)),
            LedgerEntry(a["revenue"], -Decimal(fee)),
        ],
    )


def _balances(a) -> dict[str, Decimal]:
    return {name: LedgerAccount.objects.get(pk=account.pk).balance for name, account in a.items()}


@pytest.mark.django_db
def test_a_balanced_posting_moves_each_balance_on_its_normal_side() -> None:
    a = _accounts()

    _fund(a, "100.00", "5.00", "m:1:fund")

    assert _balances(a) == {
        "clearing": Decimal("105.00"),
        "revenue": Decimal("5.00"),
        "escrow": Decimal("100.00"),
        "payable": Decimal("0.00"),
    }


@pytest.mark.django_db
def test_posting_the_same_reference_twice_stores_it_once() -> None:
    a = _accounts()

    first = _fund(a, "100.00", "5.00", "m:1:fund")
    second = _fund(a, "100.00", "5.00", "m:1:fund")

    assert first.pk == second.pk
    assert LedgerTransaction.objects.count() == 1
    assert _balances(a)["escrow"] == Decimal("100.00")


@pytest.mark.django_db
def test_an_unbalanced_posting_is_refused_with_the_difference_and_nothing_is_stored() -> None:
    a = _accounts()

    with pytest.raises(ApplicationError, match="must balance; it is off by"):
        ledger_post(
            kind="escrow_funded",
            reference="bad",
            description="x",
            entries=[LedgerEntry(a["clearing"], Decimal("10")), LedgerEntry(a["escrow"], Decimal("-9.99"))],
        )

    assert LedgerTransaction.objects.count() == 0
    assert set(_balances(a).values()) == {Decimal("0")}


@pytest.mark.django_db
def test_amounts_finer_than_the_minor_unit_are_refused() -> None:
    a = _accounts("JPY")

    with pytest.raises(ApplicationError, match="finer than the JPY minor unit"):
        _fund(a, "100.50", "0", "jpy")

    assert LedgerLine.objects.count() == 0


@pytest.mark.django_db
def test_escrow_cannot_pay_out_more_than_it_holds() -> None:
    a = _accounts()
    _fund(a, "100.00", "0", "fund")

    with pytest.raises(
        ApplicationError, match=r"Not enough in client escrow: it holds 100.00 USD, and this needs 100.01"
    ):
        ledger_post(
            kind="escrow_released",
            reference="release",
            description="x",
            entries=[LedgerEntry(a["escrow"], Decimal("100.01")), LedgerEntry(a["payable"], Decimal("-100.01"))],
        )

    assert _balances(a)["escrow"] == Decimal("100.00")
    assert _balances(a)["payable"] == Decimal("0")


@pytest.mark.django_db
def test_the_database_refuses_unbalanced_lines_written_around_the_service() -> None:
    a = _accounts()
    posted = LedgerTransaction.objects.create(kind="escrow_funded", reference="raw", description="raw")

    with pytest.raises(IntegrityError, match="does not balance"), transaction.atomic():
        LedgerLine.objects.bulk_create(
            [
                LedgerLine(transaction=posted, account=a["clearing"], amount=Decimal("10"), currency="USD"),
                LedgerLine(transaction=posted, account=a["escrow"], amount=Decimal("-9"), currency="USD"),
            ]
        )

    assert LedgerLine.objects.count() == 0


@pytest.mark.django_db
def test_the_database_refuses_a_negative_escrow_and_a_line_in_another_currency() -> None:
    a = _accounts()
    posted = LedgerTransaction.objects.create(kind="escrow_released", reference="raw", description="raw")
    euro_revenue = ledger_account(kind=Kind.PLATFORM_REVENUE, currency="EUR")

    with pytest.raises(IntegrityError, match="ledger_account_not_negative"), transaction.atomic():
        LedgerLine.objects.bulk_create(
            [
                LedgerLine(transaction=posted, account=a["escrow"], amount=Decimal("5"), currency="USD"),
                LedgerLine(transaction=posted, account=a["payable"], amount=Decimal("-5"), currency="USD"),
            ]
        )
    with pytest.raises(IntegrityError, match="posted to an account in EUR"), transaction.atomic():
        LedgerLine.objects.create(transaction=posted, account=euro_revenue, amount=Decimal("5"), currency="USD")

    assert _balances(a)["escrow"] == Decimal("0")


@pytest.mark.django_db
def test_posted_lines_and_transactions_cannot_be_changed_or_deleted() -> None:
    a = _accounts()
    posted = _fund(a, "100.00", "5.00", "fund")
    line = posted.lines.first()

    for change in (
        lambda: LedgerLine.objects.filter(pk=line.pk).update(amount=Decimal("1")),
        lambda: LedgerLine.objects.filter(pk=line.pk).delete(),
        lambda: LedgerTransaction.objects.filter(pk=posted.pk).update(description="edited"),
    ):
        with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
            change()

    assert LedgerLine.objects.filter(transaction=posted).aggregate(total=Sum("amount"))["total"] == 0
    assert LedgerTransaction.objects.get(pk=posted.pk).description == "Milestone funded"


@pytest.mark.django_db
def test_a_reversal_mirrors_the_original_once() -> None:
    a = _accounts()
    posted = _fund(a, "100.00", "5.00", "fund")

    reversal = ledger_reverse(transaction_id=posted.pk, reference="fund:reversed", description="Refunded")
    again = ledger_reverse(transaction_id=posted.pk, reference="fund:reversed", description="Refunded")

    assert again.pk == reversal.pk and reversal.reverses_id == posted.pk
    assert set(_balances(a).values()) == {Decimal("0.00")}
    with pytest.raises(ApplicationError, match="already been reversed"):
        ledger_reverse(transaction_id=posted.pk, reference="fund:reversed-again", description="Twice")


@pytest.mark.django_db(transaction=True)
def test_ten_threads_drawing_on_one_escrow_never_overdraw_it() -> None:
    a = _accounts()
    _fund(a, "30.00", "0", "fund")
    outcomes: list[str] = []
    barrier = threading.Barrier(10)

    def release(n: int) -> None:
        try:
            barrier.wait()
            ledger_post(
                kind="escrow_released",
                reference=f"release:{n}",
                description="x",
                entries=[LedgerEntry(a["escrow"], Decimal("10")), LedgerEntry(a["payable"], Decimal("-10"))],
            )
            outcomes.append("posted")
        except ApplicationError as error:
            outcomes.append(error.code)
        finally:
            connection.close()

    threads = [threading.Thread(target=release, args=(n,)) for n in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes) == ["insufficient_balance"] * 7 + ["posted"] * 3
    assert _balances(a)["escrow"] == Decimal("0.00") and _balances(a)["payable"] == Decimal("30.00")


@pytest.mark.django_db(transaction=True)
def test_ten_threads_posting_one_reference_store_it_once() -> None:
    a = _accounts()
    barrier = threading.Barrier(10)
    errors: list[BaseException] = []

    def fund() -> None:
        try:
            barrier.wait()
            _fund(a, "10.00", "1.00", "same")
        except IntegrityError:
            pass  # the unique reference refused the duplicate inside its own transaction
        except BaseException as error:  # noqa: BLE001 - any other error fails the test below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=fund) for _ in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert LedgerTransaction.objects.count() == 1
    assert _balances(a)["clearing"] == Decimal("11.00")


AMOUNTS = st.decimals(min_value=Decimal("0.01"), max_value=Decimal("5000"), places=2)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.sampled_from(["fund", "release", "refund", "payout"]), AMOUNTS), max_size=25))
def test_random_postings_keep_the_ledger_balanced_and_no_protected_account_negative(steps) -> None:
    moves = {
        "fund": [("clearing", 1), ("escrow", -1)],
        "release": [("escrow", 1), ("payable", -1)],
        "refund": [("escrow", 1), ("clearing", -1)],
        "payout": [("payable", 1), ("clearing", -1)],
    }
    with transaction.atomic():  # each example starts from an empty ledger
        a = _accounts()

        for number, (step, amount) in enumerate(steps):
            try:
                ledger_post(
                    kind="reversal",
                    reference=f"step:{number}",
                    description=step,
                    entries=[LedgerEntry(a[name], sign * amount) for name, sign in moves[step]],
                )
            except ApplicationError as error:
                assert error.code == "insufficient_balance"

        balances = _balances(a)
        assert balances["clearing"] == balances["escrow"] + balances["payable"] + balances["revenue"]
        assert min(balances["escrow"], balances["payable"]) >= 0
        for account in a.values():
            lines = LedgerLine.objects.filter(account=account).aggregate(total=Sum("amount"))["total"] or Decimal(0)
            assert LedgerAccount.objects.get(pk=account.pk).balance == (lines if account.is_debit_normal else -lines)
        transaction.set_rollback(True)
