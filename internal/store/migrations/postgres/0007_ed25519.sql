-- Each local actor's Ed25519 key (FEP-521a), PKCS #8 PEM, beside its RSA
-- key. Accounts made before this migration get one at the next start
-- (accounts.(*Service).EnsureKeys).
ALTER TABLE accounts ADD COLUMN ed25519_private_key_pem TEXT COLLATE "C" NOT NULL DEFAULT '';
