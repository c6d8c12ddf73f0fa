-- Every change to what a dashboard access token depends on writes an `access.changed` event to the outbox
-- in the same transaction, whatever code path (or hand-written statement) makes it: a session ending or
-- disappearing; a user's status, deletion, tokensNotBefore, rank or tenant; a tenant's status or deletion.
-- Each dashboard-auth instance drops what it holds in memory about that user (or tenant) when the event
-- arrives. Statement-level triggers with transition tables write one event per user or tenant touched,
-- however many rows one statement changes; a session's idle-time bookkeeping writes none.

CREATE FUNCTION "access_changed_row"(tenant text, usr text) RETURNS void LANGUAGE sql AS $$
  INSERT INTO "outbox_events" ("id", "subject", "type", "aggregateId", "payload")
  VALUES (
    'evt_' || replace(gen_random_uuid()::text, '-', ''),
    'ipaas.access.' || tenant || '.changed',
    'access.changed',
    tenant,
    jsonb_build_object(
      'tenantId', tenant,
      'userId', usr,
      'occurredAt', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
    )
  )
$$;

-- Sessions: ended (endedAt set or changed) or deleted.
CREATE FUNCTION "sessions_access_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    PERFORM "access_changed_row"(u."tenantId", u.id)
       FROM (SELECT DISTINCT n."userId"
               FROM new_rows n JOIN old_rows o ON o.id = n.id
              WHERE n."endedAt" IS DISTINCT FROM o."endedAt") changed
       JOIN "users" u ON u.id = changed."userId";
  ELSE
    PERFORM "access_changed_row"(u."tenantId", u.id)
       FROM (SELECT DISTINCT o."userId" FROM old_rows o) changed
       JOIN "users" u ON u.id = changed."userId";
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER "sessions_access_changed_update"
  AFTER UPDATE ON "sessions" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "sessions_access_changed"();
CREATE TRIGGER "sessions_access_changed_delete"
  AFTER DELETE ON "sessions" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "sessions_access_changed"();

-- Users: what authenticating a request checks of them.
CREATE FUNCTION "users_access_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    PERFORM "access_changed_row"(o."tenantId", o.id)
       FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE n.status IS DISTINCT FROM o.status
         OR n."deletedAt" IS DISTINCT FROM o."deletedAt"
         OR n."tokensNotBefore" IS DISTINCT FROM o."tokensNotBefore"
         OR n.head IS DISTINCT FROM o.head
         OR n.internal IS DISTINCT FROM o.internal
         OR n."tenantId" IS DISTINCT FROM o."tenantId";
  ELSE
    PERFORM "access_changed_row"(o."tenantId", o.id) FROM old_rows o;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER "users_access_changed_update"
  AFTER UPDATE ON "users" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "users_access_changed"();
CREATE TRIGGER "users_access_changed_delete"
  AFTER DELETE ON "users" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "users_access_changed"();

-- Tenants: suspended, reinstated or deleted; the event names no user, so every user of the tenant is dropped.
CREATE FUNCTION "tenants_access_changed"() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'UPDATE' THEN
    PERFORM "access_changed_row"(o.id, NULL)
       FROM new_rows n JOIN old_rows o ON o.id = n.id
      WHERE n.status IS DISTINCT FROM o.status OR n."deletedAt" IS DISTINCT FROM o."deletedAt";
  ELSE
    PERFORM "access_changed_row"(o.id, NULL) FROM old_rows o;
  END IF;
  RETURN NULL;
END;
$$;

CREATE TRIGGER "tenants_access_changed_update"
  AFTER UPDATE ON "tenants" REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "tenants_access_changed"();
CREATE TRIGGER "tenants_access_changed_delete"
  AFTER DELETE ON "tenants" REFERENCING OLD TABLE AS old_rows
  FOR EACH STATEMENT EXECUTE FUNCTION "tenants_access_changed"();
