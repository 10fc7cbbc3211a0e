-- Every way a referrer was typed (referral source on the schedule,
-- referring provider on claims), resolved to one referrer as DOMAIN.md
-- says: exact NPI first; then the name key against the referrer directory
-- (names and aliases) and the built-in and configured channel names; then
-- the user's alias file; then spellings with the same key are one referrer,
-- named by its most frequent spelling.
with mentions as (
    select referral_source as raw_name, referrer_npi as raw_npi, count(*) as n
    from raw_appointments
    where referral_source is not null or referrer_npi is not null
    group by all
    union all
    select referring_provider, referring_npi, count(*)
    from raw_claim_lines
    where referring_provider is not null or referring_npi is not null
    group by all
),
spellings as (
    select trim(raw_name) as raw_name, clean_npi(raw_npi) as npi, sum(n) as n, name_key(trim(raw_name)) as name_key
    from mentions
    group by all
    having trim(raw_name) <> '' or clean_npi(raw_npi) is not null
),
directory as (
    select trim(name) as referrer, clean_npi(npi) as npi, coalesce(channel, false) as channel, aliases
    from ref_directory
),
directory_keys as (
    select name_key, min(referrer) as referrer
    from (
        select referrer, name_key(referrer) as name_key from directory
        union
        select referrer, name_key(alias) from (select referrer, unnest(split_list(aliases)) as alias from directory)
    )
    where name_key is not null
    group by name_key
    having count(distinct referrer) = 1
),
channel_keys as (
    select name_key(name) as name_key, min(trim(name)) as referrer
    from ref_channels
    group by 1
),
alias_keys as (
    select name_key(alias) as name_key, min(trim(referrer)) as referrer
    from ref_aliases
    group by 1
    having count(distinct trim(referrer)) = 1
),
by_key as (
    select s.*,
        d.referrer as directory_ref,
        c.referrer as channel_ref,
        a.referrer as alias_ref,
        dn.referrer as npi_directory_ref
    from spellings s
    left join directory_keys d on d.name_key = s.name_key
    left join channel_keys c on c.name_key = s.name_key
    left join alias_keys a on a.name_key = s.name_key
    left join directory dn on dn.npi = s.npi
),
-- One referrer per NPI: the directory's, else a directory or alias match of
-- any of its spellings, else its most frequent spelling.
npi_groups as (
    select npi,
        coalesce(min(npi_directory_ref), min(directory_ref), min(alias_ref),
                 arg_max(raw_name, n * 1000000 - length(coalesce(raw_name, ''))), 'NPI ' || npi) as referrer
    from by_key
    where npi is not null
    group by npi
),
-- One referrer per name key for spellings typed without an NPI.
key_groups as (
    select b.name_key,
        coalesce(min(b.directory_ref), min(b.channel_ref), min(b.alias_ref),
                 (select min(g.referrer) from by_key k join npi_groups g on g.npi = k.npi where k.name_key = b.name_key),
                 arg_max(b.raw_name, b.n * 1000000 - length(b.raw_name))) as referrer,
        count(distinct b.raw_name) as spellings
    from by_key b
    where b.name_key is not null
    group by b.name_key
),
resolved as (
    select
        b.raw_name,
        b.npi,
        b.name_key,
        coalesce(case when b.npi is not null then g.referrer end, k.referrer, b.raw_name) as referrer,
        case
            when b.npi is not null and b.npi_directory_ref is not null then 'npi'
            when b.npi is not null then 'npi'
            when b.directory_ref is not null then 'directory'
            when b.channel_ref is not null then 'directory'
            when b.alias_ref is not null then 'alias'
            when k.spellings > 1 or exists (select 1 from by_key o where o.name_key = b.name_key and o.npi is not null) then 'name'
            else 'new'
        end as resolved_by
    from by_key b
    left join npi_groups g on g.npi = b.npi
    left join key_groups k on k.name_key = b.name_key
),
channels as (
    select name_key from channel_keys
    union
    select name_key(referrer) from directory where channel
)
select
    r.raw_name,
    r.npi,
    r.name_key,
    r.referrer,
    r.resolved_by,
    (name_key(r.referrer) in (select name_key from channels) or r.name_key in (select name_key from channels)) as is_channel
from resolved r
