"""Views that say what they serve: every page declares its model and the capability it needs.

Two forms, one declaration (``ViewDeclaration``), which tests/urlsweep.py reads so that the
isolation sweep fills each route with objects of the model it serves:

- registers are declarations of the generic views below, NetBox-style: ``ObjectListView``
  (filterset, page or keyset pagination, template), ``ObjectDetailView`` and ``ObjectEditView``
  (create and edit through a service function; the service's ValidationError lands on the form);
- a function view that stays a function view says the same with ``@view_of(Model, "app.model.verb")``.

Both check the capability with ``portal.access.may`` and fetch one object with
``portal.scoping.get_scoped_or_404``, so another organisation's object is a 404, never a 403.
A refusal answers as the page always did: on a route that names an object a person who may not
do the thing learns nothing of the object (404); elsewhere the answer is 403.
"""
from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.mixins import LoginRequiredMixin
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ImproperlyConfigured, PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.db import models
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBase, HttpResponseNotAllowed
from django.shortcuts import redirect, render
from django.views import View

from portal.access import may
from portal.errors import errors_to_form
from portal.lists.tables import (
    PAGE_SIZES,
    Listing,
    build_headers,
    chosen_columns,
    chosen_sort,
    humanise_filter_form,
    page_size,
    place_free_query,
    result_count,
)
from portal.pagination import PAGE_SIZE, keyset_page
from portal.scoping import CHANGE, VIEW, get_scoped_or_404, scope
from portal.tabular import export_format, export_response

FORBIDDEN = 403
NOT_FOUND = 404
GET = ("GET",)
POST = ("POST",)


@dataclass(frozen=True)
class ViewDeclaration:
    """What a view serves: ``model`` (the model of the object its URL names, or of the rows it
    lists; None for a page of no model, such as the home page) and the ``capability`` asked of
    ``portal.access.may`` before the view runs."""

    model: type[models.Model] | None
    capability: str


def declaration_of(view: Any) -> ViewDeclaration | None:
    """The declaration of a URL pattern's callback (a function view or a class view's as_view())."""
    declaration = getattr(view, "declaration", None)
    if isinstance(declaration, ViewDeclaration):
        return declaration
    view_class = getattr(view, "view_class", None)
    if view_class is not None and issubclass(view_class, DeclaredView):
        # as_view(capability=...) declares one class twice (create and edit)
        initkwargs = getattr(view, "view_initkwargs", {})
        return ViewDeclaration(initkwargs.get("model", view_class.model),
                               initkwargs.get("capability", view_class.capability))
    return None


def refuse(status: int | None, names_object: bool, capability: str) -> None:
    """Raise the refusal: 404 on a route that names an object unless ``status`` says otherwise."""
    if (status or (NOT_FOUND if names_object else FORBIDDEN)) == NOT_FOUND:
        raise Http404("No such object")
    raise PermissionDenied(f"You may not do that ({capability}).")


def session_or_token(request: HttpRequest) -> Any:
    """For ``view_of(authenticate=...)`` on calendar feeds: calendar programs cannot log in, so
    besides a session a feed accepts the person's feed token as ``?token=`` (issued on the account
    page; never the API token, which would then sit in calendar URLs and logs with the power to act);
    an unknown or revoked token or an inactive person stays anonymous."""
    user = request.user
    token = request.GET.get("token")
    if token and not user.is_authenticated:
        from portal.services import feed_token_user

        user = feed_token_user(token) or user
    return user


def view_of(model: type[models.Model] | None, capability: str, *, methods: Iterable[str] | None = None,
            refused: int | None = None,
            authenticate: Callable[[HttpRequest], Any] | None = None) -> Callable[[Callable[..., Any]], Any]:
    """Declare a function view's model and capability, and check them before the view runs.

    In order: the person must be logged in (else the login page), the method must be one of
    ``methods`` (else 405), and ``may(user, capability)`` must say yes (else ``refused``: 404 on a
    route with URL parameters, 403 on others, unless given). ``authenticate(request)`` replaces the
    session login for the rare page other programs fetch (a calendar feed with a token): it
    returns the person, who becomes ``request.user`` for the view.
    """
    allowed = list(methods) if methods else None

    def decorate(view: Callable[..., Any]) -> Callable[..., Any]:
        @wraps(view)
        def checked(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
            if allowed is not None and request.method not in allowed:
                return HttpResponseNotAllowed(allowed)
            if not may(request.user, capability):
                refuse(refused, bool(args or kwargs), capability)
            return view(request, *args, **kwargs)

        if authenticate is None:
            wrapped = login_required(checked)
        else:
            @wraps(view)
            def wrapped(request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
                user = authenticate(request)
                if user is None or not user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                request.user = user
                return checked(request, *args, **kwargs)

        wrapped.declaration = ViewDeclaration(model, capability)  # type: ignore[attr-defined]
        return wrapped

    return decorate


class DeclaredView(LoginRequiredMixin, View):
    """Base of the generic views: a logged-in person, a model and a capability."""

    model: type[models.Model] | None = None
    capability: str = ""
    # the queryset objects are fetched from and lists start from (default: the model's)
    queryset: models.QuerySet[Any] | None = None
    template_name = ""
    request: HttpRequest
    kwargs: dict[str, Any]

    def base_queryset(self) -> models.QuerySet[Any]:
        if self.queryset is not None:
            return self.queryset.all()
        if self.model is None:
            raise ImproperlyConfigured(f"{type(self).__name__} declares no model")
        return self.model._default_manager.all()

    def may(self, capability: str | None = None, obj: models.Model | None = None, **kwargs: Any) -> bool:
        return may(self.request.user, capability or self.capability, obj, **kwargs)

    def check(self) -> None:
        """The capability, before anything is read (lists and create pages: 403)."""
        if not self.may():
            refuse(FORBIDDEN, False, self.capability)


class ObjectFetchMixin:
    """Fetch the URL's object through scope: another organisation's object is a 404. ``lookup``
    maps URL parameters to fields (default: every URL parameter is a field of the same name)."""

    lookup: dict[str, str] | None = None
    fetch_action = VIEW

    def get_lookup(self) -> dict[str, Any]:
        kwargs = self.kwargs  # type: ignore[attr-defined]
        if self.lookup is None:
            return dict(kwargs)
        return {field: kwargs[param] for param, field in self.lookup.items()}

    def get_object(self) -> models.Model:
        from portal.breadcrumbs import trail_through

        obj = get_scoped_or_404(self.request.user, self.base_queryset(), self.fetch_action,  # type: ignore[attr-defined]
                                **self.get_lookup())
        trail_through(self.request, obj)  # type: ignore[attr-defined]  # the page's breadcrumbs run through it
        return obj


class ObjectListView(DeclaredView):
    """A register's list page: the scoped rows, filtered, paginated, rendered.

    Declare ``model``, ``capability``, ``template_name``, optionally ``filterset_class``,
    ``pagination`` ("page": ``page`` and ``query`` in the context; "keyset": ``rows`` and
    ``next_url``; None: ``context_object_name`` holds every row, up to ``limit``) and
    ``extra_context(filterset)``. ``export(queryset)`` may answer a download instead of the page:
    declare ``export_name`` (the file's name), ``export_columns`` and ``export_row(obj)`` and
    ``?export=csv`` or ``?export=xlsx`` downloads the filtered rows.
    """

    filterset_class: Any = None
    filterset_takes_request = True
    pagination: str | None = "page"
    page_size = PAGE_SIZE
    keyset_param = "before"
    context_object_name = "rows"
    limit: int | None = None

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        self.check()
        queryset = self.get_queryset()
        filterset = None
        if self.filterset_class is not None:
            extra = {"request": request} if self.filterset_takes_request else {}
            filterset = self.filterset_class(request.GET, queryset=queryset, **extra)
            queryset = filterset.qs
            if self.table_class is not None:
                humanise_filter_form(filterset.form)
        if self.table_class is not None:
            self.sort, self.descending = chosen_sort(request.GET.get("sort"), self.table_class)
            self.columns = chosen_columns(request.user, self.table_class)
            queryset = self.sorted(queryset)
        exported = self.export(queryset)
        if exported is not None:
            return exported
        context: dict[str, Any] = {"filter": filterset} if filterset is not None else {}
        context.update(self.paginate(queryset))
        if self.table_class is not None:
            context["listing"] = self.listing(queryset, context)
        context.update(self.extra_context(filterset))
        return render(request, self.template_name, context)

    # --- the table (portal.lists): declared with ``table_class`` ---------------------------------
    table_class: Any = None
    # large tables (devices, requests, alerts): the count is the planner's estimate beyond
    # portal.lists.tables.EXACT_UP_TO rows, never a COUNT(*) of the whole table
    count_estimated = False
    # the template of the bulk action's controls (drawn above the table; rows get checkboxes)
    # and the capability it needs
    bulk_template = ""
    bulk_capability = ""
    sort = ""
    descending = True
    next_label = "Next page"  # the keyset pager's link ("Older requests")
    next_key: Any = None  # the keyset page's next key (None on the last page)
    columns: list[str] = []  # noqa: RUF012 (set per request)

    def sorted(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """The declared sort (keyset lists: their paginator orders by the key itself)."""
        if not self.sort:
            return queryset
        order = self.table_class.sorts[self.sort]
        return queryset.order_by(f"-{order}" if self.descending else order,
                                 "-pk" if self.descending else "pk")

    def keyset_key(self) -> tuple[str, bool]:
        """(field, numeric) the keyset pages walk: the declared sort's field, else the id."""
        if self.table_class is not None and self.sort:
            key = self.table_class.sorts[self.sort]
            return key, key in ("id", "pk")
        return "id", True

    def table_rows(self, context: dict[str, Any]) -> Any:
        if self.pagination == "page":
            return context["page"].object_list
        return context[self.context_object_name]

    def may_bulk(self) -> bool:
        return bool(self.bulk_template) and self.may(self.bulk_capability)

    def bulk_context(self) -> dict[str, Any]:
        return {}

    def listing(self, queryset: models.QuerySet[Any], context: dict[str, Any]) -> Listing:
        table = self.table_class(self.table_rows(context))
        shown = set(self.columns)
        selectable = self.may_bulk()
        for column in table.columns.iterall():
            if column.name == "select":
                if not selectable:
                    table.columns.hide("select")
            elif column.name not in shown:
                table.columns.hide(column.name)
        query = place_free_query(self.request.GET)
        return Listing(
            table=table, table_name=self.table_class.name,
            headers=build_headers(table, query, self.sort, self.descending),
            columns=[(name, str(self.table_class.base_columns[name].verbose_name or name), name in shown)
                     for name in self.table_class.choosable()],
            fixed=self.table_class.fixed,
            count=result_count(queryset, estimate=self.count_estimated),
            per_page=self.list_page_size(), page_sizes=PAGE_SIZES, query=query.urlencode(),
            hidden_params=[(k, v) for k in query for v in query.getlist(k) if k != "per_page"],
            export_formats=self.export_formats if self.export_name else (),
            bulk_template=self.bulk_template if selectable else "", bulk_context=self.bulk_context(),
            selectable=selectable, next_url=context.get("next_url", ""),
            first_url=f"?{query.urlencode()}" if self.request.GET.get(self.keyset_param) else "",
            path=self.request.get_full_path(), next_label=self.next_label,
        )

    def list_page_size(self) -> int:
        return page_size(self.request.GET.get("per_page"), self.page_size)

    def get_queryset(self) -> models.QuerySet[Any]:
        return scope(self.request.user, self.base_queryset())

    export_name = ""
    export_columns: tuple[str, ...] = ()
    export_formats = ("csv", "xlsx")

    def export(self, queryset: models.QuerySet[Any]) -> HttpResponseBase | None:
        """The filtered rows as a download; with a table, the current view: its sort and the
        person's columns (the export columns they stand for, or the table's own values)."""
        if not self.export_name:
            return None
        fmt = export_format(self.request.GET.get("export"), self.export_formats)  # unknown: 404
        if fmt is None:
            return None
        if self.table_class is not None and not self.export_columns:
            table = self.table_class(queryset.iterator(chunk_size=2000))
            values = table.as_values(exclude_columns=[name for name in self.table_class.choosable()
                                                      if name not in self.columns] + ["select"])
            headers = next(values)
            return export_response(self.export_name, [str(h) for h in headers], values, fmt)
        columns, positions = list(self.export_columns), None
        if self.table_class is not None and self.table_class.export_fields:
            fields = self.table_class.export_fields
            of_columns = {name for column in self.table_class.choosable() for name in fields.get(column, (column,))}
            wanted = {name for column in self.columns for name in fields.get(column, (column,))}
            # an export column no table column stands for (a date the page does not show) stays
            positions = [i for i, name in enumerate(columns) if name in wanted or name not in of_columns]
            columns = [columns[i] for i in positions]
        rows = self.export_rows(queryset)
        if positions is not None:
            rows = ([row[i] for i in positions] for row in rows)
        return export_response(self.export_name, columns, rows, fmt)

    def export_rows(self, queryset: models.QuerySet[Any]) -> Iterable[Sequence[Any]]:
        return (self.export_row(obj) for obj in queryset.iterator(chunk_size=2000))

    def export_row(self, obj: Any) -> list[Any]:
        raise ImproperlyConfigured(f"{type(self).__name__} declares export_name but no export_row")

    def paginate(self, queryset: models.QuerySet[Any]) -> dict[str, Any]:
        if self.pagination == "page":
            size = self.list_page_size() if self.table_class is not None else self.page_size
            page = Paginator(queryset, size).get_page(self.request.GET.get("page"))
            return {"page": page, "query": self.querystring_without("page"),
                    self.context_object_name: page.object_list}
        if self.pagination == "keyset":
            key, numeric = self.keyset_key()
            rows, next_before = keyset_page(self.page_queryset(queryset),
                                            before=self.request.GET.get(self.keyset_param),
                                            size=self.keyset_size(), key=key, descending=self.descending,
                                            numeric=numeric)
            rows = self.page_rows(rows)
            self.next_key = next_before
            next_url = ""
            if next_before:
                query = self.request.GET.copy()
                query[self.keyset_param] = str(next_before)
                next_url = f"?{query.urlencode()}"
            return {self.context_object_name: rows, "next_url": next_url}
        rows = list(queryset if self.limit is None else queryset[: self.limit])
        return {self.context_object_name: rows}

    def page_queryset(self, queryset: models.QuerySet[Any]) -> models.QuerySet[Any]:
        """What a keyset page reads (a list may read named values rather than instances)."""
        return queryset

    def page_rows(self, rows: list[Any]) -> list[Any]:
        """A keyset page's rows as the template shows them."""
        return rows

    def keyset_size(self) -> int:
        """``?per_page=`` (one of the sizes offered) or ``?size=`` (from 1 to 500) chooses the
        page's size."""
        if self.table_class is not None and "per_page" in self.request.GET:
            return self.list_page_size()
        try:
            return max(1, min(int(self.request.GET.get("size", self.page_size)), 500))
        except ValueError:
            return self.page_size

    def querystring_without(self, name: str) -> str:
        query = self.request.GET.copy()
        query.pop(name, None)
        return query.urlencode()

    def extra_context(self, filterset: Any) -> dict[str, Any]:
        return {}


class ObjectDetailView(ObjectFetchMixin, DeclaredView):
    """One object's page: fetched through scope (404 for others'), ``context_object_name`` in the
    context with ``extra_context(obj)``."""

    context_object_name = "object"

    def get(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        obj = self.get_object()
        # The object came through scope, which is what a model's own "view" asks; a capability
        # of the table is asked of the person (no second query for the object).
        if not self.may():
            refuse(NOT_FOUND, True, self.capability)
        return self.render_object(obj)

    def render_object(self, obj: Any) -> HttpResponse:
        return render(self.request, self.template_name, {self.context_object_name: obj, **self.extra_context(obj)})

    def extra_context(self, obj: Any) -> dict[str, Any]:
        return {}


class ObjectEditView(ObjectFetchMixin, DeclaredView):
    """Create (a route without parameters) or edit (the URL names the object) through a service.

    Declare ``model``, ``capability`` (``<app>.<model>.add`` to create, ``.change`` to edit, or a
    capability of the table), ``form_class``, ``template_name`` and the write: ``service`` (called
    as ``service(actor=person, **form.cleaned_data)``, with ``<service_object>=obj`` added when the
    URL names an object; ``service_object`` defaults to the model's name) or, for anything else,
    ``save(form, obj)``, which calls the service and returns the saved object. A ValidationError
    of the service is put on the form (``portal.errors.errors_to_form``) and the page is shown again with
    ``invalid_status``; success flashes ``success_message(result, form)`` and redirects to
    ``success_url(result, obj)`` (the result's own page by default). The template gets ``form`` and
the object as ``context_object_name``.

    Editing fetches the object through scope for change first (another organisation's object,
    or one the person may not change, is a 404), then asks the capability (403), as the pages
    always did; creating asks the capability first (403).
    """

    form_class: Any = None
    # the write: a service function, declared on the class (read through the class, so it stays a
    # plain function) or given to as_view(), and the keyword it takes the URL's object by (default:
    # the model's name)
    service: Callable[..., Any] | None = None
    service_object = ""
    fetch_action = CHANGE
    invalid_status = 200
    http_method_names = ["get", "post"]
    # the name the template knows the URL's object by (None when creating)
    context_object_name = "object"

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> Any:
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        if (request.method or "").lower() not in self.http_method_names:
            return self.http_method_not_allowed(request, *args, **kwargs)
        obj = self.get_object() if self.names_object() else None
        if not self.may():
            refuse(FORBIDDEN, False, self.capability)
        return self.handle(obj)

    @classmethod
    def create_and_edit(cls, **initkwargs: Any) -> tuple[Any, Any]:
        """The register's two pages of one declaration: create (``<app>.<model>.add``, a route
        without parameters) and edit (``<app>.<model>.change``, the URL names the object)."""
        if cls.model is None:
            raise ImproperlyConfigured(f"{cls.__name__} declares no model")
        label = f"{cls.model._meta.app_label}.{cls.model._meta.model_name}"
        return (cls.as_view(capability=f"{label}.add", **initkwargs),
                cls.as_view(capability=f"{label}.change", **initkwargs))

    def names_object(self) -> bool:
        return bool(self.kwargs)

    def handle(self, obj: Any) -> HttpResponse:
        form = self.get_form(obj)
        if self.request.method == "POST" and form.is_valid():
            try:
                result = self.save(form, obj)
            except ValidationError as exc:
                errors_to_form(form, exc, getattr(form, "field_map", None))
            else:
                message = self.success_message(result, form)
                if message:
                    messages.success(self.request, message)
                return redirect(self.success_url(result, obj))
        return render(self.request, self.template_name, self.context(form, obj),
                      status=self.invalid_status if form.errors else 200)

    def form_kwargs(self, obj: Any) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"data": self.request.POST or None}
        if self.request.FILES:
            kwargs["files"] = self.request.FILES
        if obj is not None and issubclass(self.form_class, _model_forms()):
            kwargs["instance"] = obj
        return kwargs

    def get_form(self, obj: Any) -> Any:
        return self.form_class(**self.form_kwargs(obj))

    def save(self, form: Any, obj: Any) -> Any:
        # as_view(service=...) puts it on the instance, where it stays a plain function too
        service = vars(self).get("service") or type(self).service
        if service is None:
            raise ImproperlyConfigured(f"{type(self).__name__} must say how it saves (a service call)")
        keyword = self.service_object or str(self.model._meta.model_name if self.model is not None else "")
        target: dict[str, Any] = {keyword: obj} if obj is not None else {}
        return service(actor=self.request.user, **target, **form.cleaned_data)

    def success_message(self, result: Any, form: Any) -> str | None:
        return f"Saved {result}."

    def success_url(self, result: Any, obj: Any) -> str:
        return result.get_absolute_url()

    def context(self, form: Any, obj: Any) -> dict[str, Any]:
        return {"form": form, self.context_object_name: obj}


def _model_forms() -> type:
    from django.forms import BaseModelForm

    return BaseModelForm
