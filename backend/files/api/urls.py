from django.urls import path

from .views import FileDownloadView, FileUploadView

urlpatterns = [
    path("files/", FileUploadView.as_view(), name="file-upload"),
    path("files/download/<str:token>/", FileDownloadView.as_view(), name="file-download"),
]
