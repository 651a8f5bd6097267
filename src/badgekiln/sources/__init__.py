"""Reading, validating and editing the site's sources (YAML, CSV): the layer below everything."""
