from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods

from core.errors import ApplicationError
from core.forms import form_add_application_error
from core.types import AuthenticatedHttpRequest
from engagements.models import Contract
from marketplace.models import Review
from marketplace.selectors.reviews import review_side_for
from marketplace.services.reviews import review_submit


class ReviewForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(5, "★★★★★ Excellent"), (4, "★★★★ Good"), (3, "★★★ OK"), (2, "★★ Poor"), (1, "★ Bad")],
        coerce=int,
        widget=forms.RadioSelect,
    )
    comment = forms.CharField(required=False, max_length=2000, widget=forms.Textarea(attrs={"rows": 4}))


@login_required
@require_http_methods(["GET", "POST"])
def contract_review(request: AuthenticatedHttpRequest, contract_id: int) -> HttpResponse:
    contract = Contract.objects.select_related("organization", "freelancer", "vendor", "gig").get(pk=contract_id)
    side = review_side_for(contract=contract, user=request.user)  # 404 unless a party to the contract
    form = ReviewForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            review_submit(
                contract_id=contract.pk,
                by=request.user,
                rating=form.cleaned_data["rating"],
                comment=form.cleaned_data["comment"],
            )
            messages.success(request, "Thanks! Reviews are shown once both sides have reviewed, or after 14 days.")
            return redirect("marketplace:contract_review", contract_id=contract.pk)
        except ApplicationError as error:
            form_add_application_error(form, error)
    reviews = list(Review.objects.filter(contract=contract).select_related("author"))
    mine = next((r for r in reviews if r.side == side), None)
    theirs = next((r for r in reviews if r.side != side and r.revealed_at), None)
    return render(
        request,
        "marketplace/contract_review.html",
        {
            "contract": contract,
            "form": form,
            "mine": mine,
            "theirs": theirs,
            "can_review": contract.status in (Contract.Status.COMPLETED, Contract.Status.TERMINATED),
        },
    )
