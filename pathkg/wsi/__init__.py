"""Whole-slide images through OpenSlide: properties, tissue masks, thumbnails and ROI tiles.

- `slide_file.open_slide` opens a slide or says precisely why it cannot (`slide_errors`,
  with `tiff_structure` telling a truncated TIFF from a plain one).
- `slide_properties.read_properties`: vendor, levels, mpp, objective power, associated images,
  what is missing, and the base magnification only when it can be justified.
- `overview.read_overview` + `tissue_mask.detect_tissue`: a low-resolution image and its tissue mask.
- `tile_selection.select_tiles` + `tiles.extract_tiles`: tiles inside tissue at several scales.
- `tile_overlay.draw_overlay`: the thumbnail with the tissue outline and the tiles drawn on it.
- `slide_processing.process_slide` does all of it for one slide and returns a `schemas.slide.SlideRecord`;
  `slide_inspection.inspect_slide` is the read-only summary behind `pathkg slides inspect`.
"""
