-- Instance-wide settings that the admin changes at run time (the config file holds the rest).
CREATE TABLE instance_settings (
    key        TEXT COLLATE "C" PRIMARY KEY,
    value      TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
