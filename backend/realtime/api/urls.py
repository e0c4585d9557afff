from __future__ import annotations

from django.urls import URLPattern, path

from .views import EventsListView, TicketCreateView

urlpatterns: list[URLPattern] = [
    path("events/", EventsListView.as_view(), name="realtime-events"),
    path("realtime/ticket/", TicketCreateView.as_view(), name="realtime-ticket"),
]
