"""Keys and the build's signer (JWS, Data Integrity proofs) on top of badgekiln.crypto."""
