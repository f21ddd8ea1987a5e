"""Live streams: capture with dropping and reconnects, RTSP/segment/preview outputs (layer 4)."""
