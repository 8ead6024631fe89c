-- A codespace built from a Docker Compose service's image records `compose` as its source.
ALTER TABLE codespaces DROP CONSTRAINT codespaces_image_source_check;
ALTER TABLE codespaces ADD CONSTRAINT codespaces_image_source_check
    CHECK (image_source IN ('image', 'dockerfile', 'compose', 'default'));
