"""Qualification approval: by commitment (告知承诺, provisional at once, verified on site
within three months) or by the general route (reviewed, then approved or rejected)."""
