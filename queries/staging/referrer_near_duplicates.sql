-- Referrers whose names are alike but were not merged (different keys, no
-- shared NPI, no alias). Listed for the user to decide: add an alias to
-- merge them, or leave them apart.
with referrers as (
    select referrer, npi, name_key(referrer) as name_key
    from stg_referrers
    where not is_channel
)
select
    a.referrer as referrer_a,
    b.referrer as referrer_b,
    round(jaro_winkler_similarity(a.name_key, b.name_key), 3) as similarity
from referrers a
join referrers b on a.referrer < b.referrer
where a.name_key is not null and b.name_key is not null
  and (a.npi is null or b.npi is null or a.npi = b.npi)
  and jaro_winkler_similarity(a.name_key, b.name_key) >= getvariable('near_duplicate_cutoff')
order by similarity desc, referrer_a, referrer_b
