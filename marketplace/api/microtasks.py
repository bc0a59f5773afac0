"""Partner API of the marketplace: micro-task batches and units, the client's side and the worker's."""

from __future__ import annotations

import io
import json
from decimal import Decimal
from typing import Any

import django_filters
from django.db.models import QuerySet
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import generics, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ApplicationError
from core.types import api_user
from marketplace.models import TaskBatch, TaskUnit
from marketplace.selectors.microtasks import (
    task_batch_get_for_client,
    task_batch_list_for_worker,
    task_batch_progress,
    task_unit_list_for_client,
)
from marketplace.services.microtask_import import IMPORT_MAX_ROWS, task_units_import
from marketplace.services.microtasks import (
    REASON_MAX_CHARS,
    TaskBatchInput,
    task_batch_close,
    task_batch_create,
    task_batch_open,
    task_batch_update,
    task_unit_accept,
    task_unit_claim_next,
    task_unit_reject,
    task_unit_submit,
)

# --- micro-task batches -------------------------------------------------------------------------------------------


class TaskBatchProgressSerializer(serializers.Serializer):
    total = serializers.IntegerField()
    open = serializers.IntegerField()
    leased = serializers.IntegerField()
    submitted = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    reviewed = serializers.IntegerField()
    gold = serializers.IntegerField()
    gold_answered = serializers.IntegerField()
    gold_correct = serializers.IntegerField()
    earned = serializers.DecimalField(max_digits=14, decimal_places=2)


class TaskBatchOutputSerializer(serializers.ModelSerializer):
    """A gig's micro-task batch and its progress (needs `progress` from task_batch_progress in the context)."""

    gig_id = serializers.IntegerField(read_only=True)
    answer_options = serializers.ListField(child=serializers.CharField(), read_only=True)
    payload_columns = serializers.ListField(child=serializers.CharField(), read_only=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    progress = serializers.SerializerMethodField()

    class Meta:
        model = TaskBatch
        fields = [
            "id",
            "gig_id",
            "status",
            "instructions",
            "answer_options",
            "payload_columns",
            "unit_price",
            "currency",
            "time_limit_minutes",
            "min_accuracy",
            "opened_at",
            "closed_at",
            "created_at",
            "progress",
        ]
        read_only_fields = fields

    @extend_schema_field(TaskBatchProgressSerializer)
    def get_progress(self, batch: TaskBatch) -> dict[str, Any]:
        return TaskBatchProgressSerializer(self.context["progress"]).data


class TaskBatchInputSerializer(serializers.Serializer):
    instructions = serializers.CharField(max_length=20_000)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Paid per accepted unit.")
    time_limit_minutes = serializers.IntegerField(min_value=1, max_value=TaskBatch.TIME_LIMIT_MAX_MINUTES, default=10)
    min_accuracy = serializers.DecimalField(
        max_digits=5, decimal_places=2, min_value=Decimal(0), max_value=Decimal(100), required=False, allow_null=True
    )
    answer_options = serializers.ListField(
        child=serializers.CharField(max_length=100), max_length=20, required=False, default=list
    )

    def to_input(self) -> TaskBatchInput:
        return TaskBatchInput(**self.validated_data)


def _batch_output(batch: TaskBatch) -> dict[str, Any]:
    return TaskBatchOutputSerializer(batch, context={"progress": task_batch_progress(batch_id=batch.pk)}).data


class TaskBatchApi(APIView):
    """The micro-task batch of the caller's own gig (of kind micro_task): read it with its progress, create it
    (POST, once per gig) or change its settings (PUT)."""

    scope_area = "marketplace"

    @extend_schema(responses=TaskBatchOutputSerializer)
    def get(self, request: Request, gig_id: int) -> Response:
        return Response(_batch_output(task_batch_get_for_client(gig_id=gig_id, user=api_user(request))))

    @extend_schema(request=TaskBatchInputSerializer, responses={201: TaskBatchOutputSerializer})
    def post(self, request: Request, gig_id: int) -> Response:
        serializer = TaskBatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = task_batch_create(gig_id=gig_id, data=serializer.to_input(), by=api_user(request))
        return Response(_batch_output(batch), status=status.HTTP_201_CREATED)

    @extend_schema(request=TaskBatchInputSerializer, responses=TaskBatchOutputSerializer)
    def put(self, request: Request, gig_id: int) -> Response:
        serializer = TaskBatchInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = task_batch_get_for_client(gig_id=gig_id, user=api_user(request))
        batch = task_batch_update(batch_id=batch.pk, data=serializer.to_input(), by=api_user(request))
        return Response(_batch_output(batch))


class TaskBatchOpenApi(APIView):
    """Open the batch to qualified workers (the gig must be open and have units to work on)."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses=TaskBatchOutputSerializer)
    def post(self, request: Request, gig_id: int) -> Response:
        batch = task_batch_get_for_client(gig_id=gig_id, user=api_user(request))
        return Response(_batch_output(task_batch_open(batch_id=batch.pk, by=api_user(request))))


class TaskBatchCloseApi(APIView):
    """Stop new claims; units already claimed can still be submitted until their lease runs out."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses=TaskBatchOutputSerializer)
    def post(self, request: Request, gig_id: int) -> Response:
        batch = task_batch_get_for_client(gig_id=gig_id, user=api_user(request))
        return Response(_batch_output(task_batch_close(batch_id=batch.pk, by=api_user(request))))


# --- micro-task units: the client's side --------------------------------------------------------------------------


class TaskUnitOutputSerializer(serializers.ModelSerializer):
    """A unit: its data, the worker's result and the review. Whether it is a gold unit, its known answer and
    whether the answer matched are the client's to see (context `client_view`); for the worker they are null."""

    batch_id = serializers.IntegerField(read_only=True)
    payload = serializers.DictField(read_only=True)
    is_gold = serializers.SerializerMethodField(help_text="Client's view only.")
    gold_answer = serializers.SerializerMethodField(help_text="Client's view only.")
    is_gold_correct = serializers.SerializerMethodField(help_text="Client's view only.")
    result = serializers.JSONField(read_only=True, allow_null=True)
    worker_id = serializers.IntegerField(source="claimed_by_id", read_only=True, allow_null=True)
    worker_name = serializers.SerializerMethodField()
    earned_amount = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True, allow_null=True)
    currency = serializers.CharField(source="batch.currency", read_only=True)

    class Meta:
        model = TaskUnit
        fields = [
            "id",
            "batch_id",
            "external_id",
            "payload",
            "is_gold",
            "gold_answer",
            "status",
            "worker_id",
            "worker_name",
            "leased_until",
            "result",
            "submitted_at",
            "is_gold_correct",
            "reviewed_at",
            "rejection_reason",
            "earned_amount",
            "currency",
        ]
        read_only_fields = fields

    def _is_client_view(self) -> bool:
        return bool(self.context.get("client_view"))

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_is_gold(self, unit: TaskUnit) -> bool | None:
        return unit.is_gold if self._is_client_view() else None

    @extend_schema_field(serializers.JSONField(allow_null=True))
    def get_gold_answer(self, unit: TaskUnit) -> Any:
        return unit.gold_answer if self._is_client_view() else None

    @extend_schema_field(serializers.BooleanField(allow_null=True))
    def get_is_gold_correct(self, unit: TaskUnit) -> bool | None:
        return unit.is_gold_correct if self._is_client_view() else None

    def get_worker_name(self, unit: TaskUnit) -> str | None:
        return unit.claimed_by.get_full_name() if unit.claimed_by is not None else None


_CLIENT_VIEW = {"client_view": True}


class TaskUnitInputSerializer(serializers.Serializer):
    id = serializers.CharField(max_length=TaskUnit.EXTERNAL_ID_MAX_LENGTH, help_text="Your own id for the unit.")
    payload = serializers.DictField(help_text="What the worker sees: one key per column (names up to 200 characters).")
    gold_answer = serializers.JSONField(
        required=False, allow_null=True, help_text="A known answer makes this a gold unit that scores accuracy."
    )


class TaskUnitsImportInputSerializer(serializers.Serializer):
    units = serializers.ListField(child=TaskUnitInputSerializer(), allow_empty=False, max_length=IMPORT_MAX_ROWS)


class TaskUnitsImportOutputSerializer(serializers.Serializer):
    created = serializers.IntegerField()
    gold = serializers.IntegerField()


class TaskUnitRejectInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_CHARS, help_text="The worker sees it.")


class TaskUnitFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=TaskUnit.Status.choices)
    is_gold = django_filters.BooleanFilter()

    class Meta:
        model = TaskUnit
        fields = ["status", "is_gold"]


def _units_as_json_lines(units: list[dict[str, Any]]) -> io.BytesIO:
    """The units as the JSON lines file the upload page takes, so both go through the same import: row N of
    its errors is the N-th unit of the list."""
    lines = []
    for unit in units:
        line = {"id": unit["id"], "payload": unit["payload"]}
        if unit.get("gold_answer") is not None:
            line["gold_answer"] = unit["gold_answer"]
        lines.append(json.dumps(line))
    file = io.BytesIO("\n".join(lines).encode())
    file.name = "units.jsonl"
    return file


class GigTaskUnitListCreateApi(generics.ListAPIView):
    """GET: every unit of the caller's own gig's batch with its result, filtered by status or gold. POST: add
    units in bulk. All or nothing: one bad unit means none is added, and each problem names its unit as
    “Row N” (the N-th unit of the list)."""

    scope_area = "marketplace"
    serializer_class = TaskUnitOutputSerializer
    filterset_class = TaskUnitFilter
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[TaskUnit]:
        if getattr(self, "swagger_fake_view", False):
            return TaskUnit.objects.none()
        return task_unit_list_for_client(gig_id=self.kwargs["gig_id"], user=api_user(self.request))

    def get_serializer_context(self) -> dict[str, Any]:
        return {**super().get_serializer_context(), **_CLIENT_VIEW}

    @extend_schema(request=TaskUnitsImportInputSerializer, responses={201: TaskUnitsImportOutputSerializer})
    def post(self, request: Request, gig_id: int) -> Response:
        serializer = TaskUnitsImportInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        batch = task_batch_get_for_client(gig_id=gig_id, user=api_user(request))
        file = _units_as_json_lines(serializer.validated_data["units"])
        try:
            result = task_units_import(batch_id=batch.pk, file=file, by=api_user(request))
        except ApplicationError as error:  # the import names the file; here the units came as `units`
            if "file" in error.field_errors:
                error.field_errors = {"units": error.field_errors.pop("file"), **error.field_errors}
            raise
        return Response(TaskUnitsImportOutputSerializer(result).data, status=status.HTTP_201_CREATED)


class TaskUnitAcceptApi(APIView):
    """Accept a submitted unit of the caller's batch: the worker earns the batch's unit price."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses=TaskUnitOutputSerializer)
    def post(self, request: Request, unit_id: int) -> Response:
        unit = task_unit_accept(unit_id=unit_id, by=api_user(request))
        return Response(TaskUnitOutputSerializer(unit, context=_CLIENT_VIEW).data)


class TaskUnitRejectApi(APIView):
    """Reject a submitted unit of the caller's batch, with a reason the worker sees; it earns nothing."""

    scope_area = "marketplace"

    @extend_schema(request=TaskUnitRejectInputSerializer, responses=TaskUnitOutputSerializer)
    def post(self, request: Request, unit_id: int) -> Response:
        serializer = TaskUnitRejectInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unit = task_unit_reject(unit_id=unit_id, by=api_user(request), reason=serializer.validated_data["reason"])
        return Response(TaskUnitOutputSerializer(unit, context=_CLIENT_VIEW).data)


# --- micro-task units: the worker's side --------------------------------------------------------------------------


class WorkerTaskBatchOutputSerializer(serializers.ModelSerializer):
    """An open batch the freelancer qualifies for, with their own record in it."""

    gig_id = serializers.IntegerField(read_only=True)
    gig_title = serializers.CharField(source="gig.title", read_only=True)
    organization = serializers.CharField(source="gig.organization.name", read_only=True)
    answer_options = serializers.ListField(child=serializers.CharField(), read_only=True)
    payload_columns = serializers.ListField(child=serializers.CharField(), read_only=True)
    unit_price = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    remaining_units = serializers.IntegerField(read_only=True)
    my_gold_answered = serializers.IntegerField(read_only=True)
    my_gold_correct = serializers.IntegerField(read_only=True)
    my_accepted_units = serializers.IntegerField(read_only=True)
    my_earnings = serializers.DecimalField(max_digits=14, decimal_places=2, read_only=True)
    my_lease_until = serializers.DateTimeField(read_only=True, allow_null=True)
    is_accuracy_blocked = serializers.BooleanField(read_only=True)

    class Meta:
        model = TaskBatch
        fields = [
            "id",
            "gig_id",
            "gig_title",
            "organization",
            "instructions",
            "answer_options",
            "payload_columns",
            "unit_price",
            "currency",
            "time_limit_minutes",
            "min_accuracy",
            "remaining_units",
            "my_gold_answered",
            "my_gold_correct",
            "my_accepted_units",
            "my_earnings",
            "my_lease_until",
            "is_accuracy_blocked",
        ]
        read_only_fields = fields


class TaskUnitSubmitInputSerializer(serializers.Serializer):
    result = serializers.JSONField(help_text="The answer: one of the batch's answer options, or free text or JSON.")


class WorkerTaskBatchListApi(generics.ListAPIView):
    """Open micro-task batches the calling freelancer qualifies for."""

    scope_area = "marketplace"
    serializer_class = WorkerTaskBatchOutputSerializer
    filterset_class = None
    ordering_fields = ["id"]

    def get_queryset(self) -> QuerySet[TaskBatch]:
        if getattr(self, "swagger_fake_view", False):
            return TaskBatch.objects.none()
        return task_batch_list_for_worker(worker=api_user(self.request))


class TaskUnitClaimApi(APIView):
    """Lease the next open unit of the batch to the calling freelancer (or give back the one they hold).
    204 when no unit is left."""

    scope_area = "marketplace"

    @extend_schema(request=None, responses={200: TaskUnitOutputSerializer, 204: None})
    def post(self, request: Request, batch_id: int) -> Response:
        unit = task_unit_claim_next(batch_id=batch_id, worker=api_user(request))
        if unit is None:
            return Response(status=status.HTTP_204_NO_CONTENT)
        return Response(TaskUnitOutputSerializer(unit).data)


class TaskUnitSubmitApi(APIView):
    """Hand in the result of the unit the calling freelancer holds a live lease on."""

    scope_area = "marketplace"

    @extend_schema(request=TaskUnitSubmitInputSerializer, responses=TaskUnitOutputSerializer)
    def post(self, request: Request, unit_id: int) -> Response:
        serializer = TaskUnitSubmitInputSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        unit = task_unit_submit(unit_id=unit_id, worker=api_user(request), result=serializer.validated_data["result"])
        return Response(TaskUnitOutputSerializer(unit).data)
