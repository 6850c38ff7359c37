"""Faces: detection (MediaPipe Tasks FaceDetector), dense landmarks (468-point mesh through
LiteRT), temporal tracking, similarity alignment, cropping and QC."""
