-- Every way a referrer was typed (referral source on the schedule,
-- referring provider on claims), resolved to one referrer as DOMAIN.md
-- says: exact NPI first; then the name key against the referrer directory
-- (names and aliases) and the built-in and configured channel names; then
-- the user's alias file; then spellings with the same key are one referrer,
-- named by its most presentable spelling, then the one on most clients' records
-- (clients, not rows: a client's follow-up appointments do not rename a referrer),
-- then the shortest, then the first in alphabetical order: without that last key a
-- tie was broken arbitrarily, and two builds could name a referrer differently.
--
-- Two NPIs are two referrers, whatever their names: two physicians named John
-- Smith are not merged by their name key. That holds for NPIs whose check digit
-- is right (npi_valid): a mistyped NPI breaks it and is merged by name as before,
-- and it groups nothing (id_npi is NULL): two names typed with one such number (a
-- placeholder such as 0000000000, or one typo) are not one referrer by it, and a
-- mistyped NPI on a name several NPIs share counts as typed without one. Only a
-- spelling with no name at all keeps its mistyped NPI to go by.
-- A directory name matches a spelling with such an NPI only when the directory
-- gives that NPI or none; where two such NPIs' referrers would still be named
-- alike, each name gets its NPI ("John Smith (NPI 1234567893)"), but for one the
-- directory names by that NPI. A spelling typed without an NPI whose key is that of
-- several NPIs' referrers cannot be told apart: it is a referrer of its own,
-- resolved_by 'several NPIs' (the workbook's Data quality sheet lists it), never
-- added to one of them at random.
with mentions as (
    select raw_name, raw_npi, count(*) as n from client_mentions group by all
),
-- 'N/A', 'Unknown', '-' name no referrer (no_source_name), as a blank names none: such
-- a spelling typed with an NPI is the NPI alone, its name NULL (client_appointments and
-- client_claims give such a source no name either), so that it neither names the NPI's
-- referrer "Unknown" nor joins, by its name's key, the other NPIs typed with "N/A".
-- A filter on the mentions, not a HAVING: one that names raw_npi made GROUP BY ALL
-- group by it too, and a spelling typed with one NPI three ways ('1500000033',
-- '1500 000 033', '150-000-0033') was three rows, its clients split among them.
-- The names that are placeholders, tested once per name (behind a CASE on the count,
-- which DuckDB cannot push below the grouping), not once or twice per name and NPI.
placeholders as (
    select raw_name
    from (select raw_name, count(*) as n from mentions where raw_name is not null group by raw_name)
    where case when n > 0 then no_source_name(raw_name) else false end
),
named as (
    select case when raw_name not in (select raw_name from placeholders) then trim(raw_name) end as raw_name, raw_npi, n
    from mentions
    where raw_name not in (select raw_name from placeholders) or clean_npi(raw_npi) is not null
),
spellings as (
    select raw_name, clean_npi(raw_npi) as npi, sum(n) as n, name_key(raw_name) as name_key,
        -- How presentable a spelling is as the referrer's name: Mixed Case
        -- beats SHOUTING and lower case, "First Last" beats "Last, First".
        -- A comma followed by credentials alone ("Xavier Young, MD") is no "Last, First".
        (raw_name <> upper(raw_name) and raw_name <> lower(raw_name))::INTEGER * 2
            + CASE WHEN strpos(raw_name, ',') = 0 THEN 1
                   ELSE (len(list_filter(name_tokens(substr(raw_name, strpos(raw_name, ',') + 1)), t -> NOT credential_or_surname(t))) = 0)::INTEGER END as pretty
    from named
    group by all
),
spellings_checked as (
    select *, valid_npi or (npi is not null and name_key is null) as has_id_npi
    from (select *, coalesce(npi_valid(npi), false) as valid_npi from spellings)
),
directory as (
    select trim(name) as referrer, clean_npi(npi) as npi, coalesce(channel, false) as channel, aliases
    from ref_directory
),
-- No test that the key is not NULL: the NULL key's group joins no spelling below, and
-- such a test goes down to the directory's rows, where DuckDB computed every key a
-- second time, four times slower than in the projection (0.14 of 0.9 CPU-seconds at
-- 10M exported rows).
directory_keys as (
    select name_key, min(referrer) as referrer, coalesce(list(distinct npi) filter (where npi_valid(npi)), []) as npis
    from (
        select referrer, npi, name_key(referrer) as name_key from directory
        union
        select referrer, npi, name_key(alias) from (select referrer, npi, unnest(split_list(aliases)) as alias from directory)
    )
    group by name_key
    having count(distinct referrer) = 1
),
channel_keys as (
    select name_key(name) as name_key, min(trim(name)) as referrer
    from ref_channels
    group by 1
),
-- An alias whose referrer ends in "(NPI 1234567893)" names that NPI's referrer: it
-- applies to spellings typed without an NPI or with that one.
alias_keys as (
    select name_key(alias) as name_key, min(trim(referrer)) as referrer,
        nullif(regexp_extract(min(trim(referrer)), '\(NPI ([0-9]{10})\)$', 1), '') as target_npi
    from ref_aliases
    group by 1
    having count(distinct trim(referrer)) = 1
),
-- The name the user gave in the alias file is how they want the referrer
-- shown, for every spelling with that name's key too.
alias_targets as (
    select name_key(trim(referrer)) as name_key, min(trim(referrer)) as referrer
    from ref_aliases
    group by 1
),
by_key as (
    select s.*,
        -- Not for a spelling with an NPI other than the directory's.
        case when not s.valid_npi or len(d.npis) = 0 or list_contains(d.npis, s.npi) then d.referrer end as directory_ref,
        s.valid_npi and len(d.npis) > 0 and not list_contains(d.npis, s.npi) as directory_other_npi,
        c.referrer as channel_ref,
        case when a.target_npi is null or not s.has_id_npi or s.npi = a.target_npi then a.referrer end as alias_ref,
        a.target_npi as alias_npi,
        t.referrer as alias_target,
        dn.referrer as npi_directory_ref,
        case when s.has_id_npi then s.npi end as id_npi
    from spellings_checked s
    left join directory_keys d on d.name_key = s.name_key
    left join channel_keys c on c.name_key = s.name_key
    left join alias_keys a on a.name_key = s.name_key
    left join alias_targets t on t.name_key = s.name_key
    left join directory dn on dn.npi = s.npi
),
-- Every spelling that belongs with an NPI: typed with it, or typed without
-- it but with the same name key as a spelling that had it.
-- A channel's name ("Friend/Family" typed with a physician's NPI) names the NPI's
-- referrer only when no other spelling can: however often the channel is typed
-- without an NPI, the physician keeps her name (and, below, her kind).
npi_candidates as (
    select id_npi as npi, raw_name, pretty, n, channel_ref is not null as channel from by_key where id_npi is not null
    union all
    select g.npi, b.raw_name, b.pretty, b.n, b.channel_ref is not null
    from (select distinct id_npi as npi, name_key from by_key where id_npi is not null and name_key is not null) g
    join by_key b on b.name_key = g.name_key
),
npi_display as (
    select npi, arg_min(raw_name, {'channel': channel, 'pretty': -pretty, 'n': -n, 'length': length(raw_name), 'name': raw_name}) as display
    from npi_candidates
    where raw_name is not null
    group by npi
),
-- One referrer per NPI: the directory's, else a directory or alias match of
-- any of its spellings, else its most presentable spelling.
npi_named as (
    select b.id_npi as npi,
        min(b.npi_directory_ref) as by_npi,
        -- Named by the user (directory or alias file), not by a spelling.
        coalesce(min(b.directory_ref), min(b.alias_target), min(b.alias_ref)) is not null as by_user,
        bool_or(b.valid_npi) as valid_npi,
        bool_or(b.directory_other_npi) as directory_other_npi,
        coalesce(min(b.npi_directory_ref), min(b.directory_ref),
                 min(b.alias_target), min(b.alias_ref), any_value(d.display), 'NPI ' || b.id_npi) as referrer,
        coalesce(any_value(d.display), 'NPI ' || b.id_npi) as display
    from by_key b
    left join npi_display d on d.npi = b.id_npi
    where b.id_npi is not null
    group by b.id_npi
),
-- Two NPIs named alike by their spellings keep apart: each is its spelling and its
-- NPI, as is a name the directory gives another NPI (check digits right). A name
-- the user gave (directory or alias file) stands: a directory entry or alias without
-- an NPI that matches two NPIs makes them one, as it says; an alias file line naming
-- "John Smith (NPI 1234567893)" names that NPI's referrer, whatever it is called.
npi_groups as (
    select npi,
        case when valid_npi and by_npi is null and not by_user
                  and (count(*) filter (where valid_npi) over (partition by referrer) > 1 or directory_other_npi)
             then display || ' (NPI ' || npi || ')' else referrer end as referrer
    from npi_named
),
-- The NPIs' referrers each name key was typed with.
key_npi_referrers as (
    select k.name_key, count(distinct g.referrer) as referrers, min(g.referrer) as referrer
    from (select distinct name_key, id_npi from by_key where name_key is not null and id_npi is not null) k
    join npi_groups g on g.npi = k.id_npi
    group by k.name_key
),
-- One referrer per name key for spellings typed without an NPI.
key_groups as (
    select b.name_key,
        coalesce(min(b.directory_ref), min(b.channel_ref),
                 min(b.alias_target),
                 (select g.referrer from npi_groups g where g.npi = min(b.alias_npi)),
                 min(b.alias_ref),
                 case when any_value(kn.referrers) = 1 then any_value(kn.referrer) end,
                 -- Typed without an NPI where several NPIs share the key: a referrer of
                 -- its own, and named so, never under one NPI's referrer's name.
                 arg_min(b.raw_name, {'pretty': -b.pretty, 'n': -b.n, 'length': length(b.raw_name), 'name': b.raw_name})
                     || case when any_value(kn.referrers) > 1 then ' (no NPI)' else '' end) as referrer,
        count(distinct b.raw_name) as spellings
    from by_key b
    left join key_npi_referrers kn on kn.name_key = b.name_key
    where b.name_key is not null
    group by b.name_key
),
resolved as (
    select
        b.raw_name,
        b.npi,
        b.name_key,
        coalesce(case when b.id_npi is not null then g.referrer end, k.referrer, b.raw_name) as referrer,
        case
            when b.id_npi is not null then 'npi'
            when b.directory_ref is not null then 'directory'
            when b.channel_ref is not null then 'directory'
            when b.alias_ref is not null then 'alias'
            when kn.referrers > 1 then 'several NPIs'
            when k.spellings > 1 or exists (select 1 from by_key o where o.name_key = b.name_key and o.id_npi is not null) then 'name'
            else 'new'
        end as resolved_by
    from by_key b
    left join npi_groups g on g.npi = b.id_npi
    left join key_groups k on k.name_key = b.name_key
    left join key_npi_referrers kn on kn.name_key = b.name_key
),
channels as (
    select name_key from channel_keys
    union
    select name_key(referrer) from directory where channel
),
-- The referrers' own keys, once per referrer (materialized, or DuckDB computes the key
-- on every spelling's row again: 1.4 s of 3 s at 10M exported rows). A referrer whose
-- name is also a spelling (19,582 of 32,863 at 10M exported rows) takes that
-- spelling's key, already computed (the same function of the same text); only the
-- others are keyed here.
referrer_keys as materialized (
    select r.referrer, coalesce(k.name_key, name_key(r.referrer)) as referrer_key, r.spellings_all_channels
    from (
        -- Whether every spelling of the referrer is a channel's name: an aggregate per
        -- referrer joined back, where a window over the spellings partitioned by referrer
        -- sorted them by name: the model took 0.69 s against 0.63 s at 10M exported rows
        -- (build, digest and commit; CPU 1.02 s against 0.96 s).
        select referrer, bool_and(coalesce(name_key in (select name_key from channels), false)) as spellings_all_channels
        from resolved
        group by referrer
    ) r
    left join (select distinct raw_name, name_key from by_key) k on k.raw_name = r.referrer
)
select
    r.raw_name,
    r.npi,
    r.name_key,
    r.referrer,
    r.resolved_by,
    -- One answer per referrer, so that all its referrals are of one kind: a channel
    -- when its name is one, or when every spelling of it is a channel's name (two
    -- NPIs typed with "Google" stay channels under their NPI names). A channel's name
    -- typed with a physician's NPI ("Friend/Family" and her NPI) is hers, counted as
    -- hers: before, that one referral was a channel's and the rest hers, and
    -- follow_through_referrer and referrer_value took either kind at random.
    coalesce(rk.referrer_key in (select name_key from channels), false) or rk.spellings_all_channels as is_channel
from resolved r
join referrer_keys rk using (referrer)
