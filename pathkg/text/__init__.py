"""Report text: PHI scrubbing, OCR normalisation, section splitting."""
