"""Camera video: capture (:mod:`.capture`), frame-quality checks (:mod:`.quality`) and the
reference snapshots they are judged against (:mod:`.references`)."""
