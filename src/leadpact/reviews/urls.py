"""The review pages' routes (included under ``reviews/``)."""

from django.urls import path

from leadpact.reviews import views

urlpatterns = [
    path("", views.series_index, name="reviews"),
    path("feed/<str:token>.ics", views.review_feed, name="review_feed"),
    path("actions/<int:pk>/done/", views.action_done, name="review_action_done"),
    path("<int:pk>/", views.series_page, name="review_series"),
    path("<int:pk>/calendar.ics", views.series_calendar, name="review_series_calendar"),
    path("<int:pk>/feed/rotate/", views.series_rotate, name="review_series_rotate"),
    path("<int:pk>/<str:day>/", views.review_page, name="review"),
    path("<int:pk>/<str:day>/note/", views.review_note, name="review_note"),
    path("<int:pk>/<str:day>/answer/<int:note>/", views.review_answer, name="review_answer"),
    path("<int:pk>/<str:day>/meeting/", views.review_meeting, name="review_meeting"),
    path("<int:pk>/<str:day>/pack.<str:fmt>", views.review_download, name="review_download"),
]
