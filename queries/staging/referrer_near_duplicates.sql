-- Referrers whose names are alike but were not merged (different keys, no
-- shared NPI, no alias): Jaro-Winkler at the cutoff or more, or the same words
-- (word_keys below). Listed for the user to decide: add an alias to merge them,
-- or leave them apart.
--
-- Comparing every name with every other grows with the square of the
-- referrers, so candidate pairs are first blocked: names that share their
-- first letter, or the first three letters of their last word (a typo in
-- the first letter of the first name, 'Cathy Lee' / 'Kathy Lee').
--
-- A block still pairs most names with names they share little with (33.5M
-- pairs at 10M exported rows), so before Jaro-Winkler a pair must pass a
-- bound it cannot beat. Jaro is (m/|a| + m/|b| + (m - t)/m) / 3 for m
-- matching letters, so at most (m/|a| + m/|b| + 1) / 3, and Winkler's
-- prefix adds at most 0.4 of what is left: JW <= 0.6 Jaro + 0.4. A letter
-- matches only a copy of itself, so every letter of a name beyond the
-- other's copies of it (counted up to two, from bit masks) is unmatched.
-- Name keys hold only a-z, 0-9 and spaces; the digits share one bit, which
-- only loosens the bound. The bound is never below the true score, so the
-- pairs listed are exactly those the plain comparison lists (checked
-- against it at 10M rows and in queries' TestNearDuplicatesMatchPlainComparison);
-- it leaves 1.1M pairs to compare, and the model takes 2.6 s instead of 5.
with referrers as (
    select referrer, npi, name_key(referrer) as name_key
    from stg_referrers
    where not is_channel
),
-- Integer ids ordered like the names, so the blocking joins compare numbers.
named as (
    select row_number() over (order by referrer) as id, *
    from referrers
),
letters as (
    select id, case when c = ' ' then 26 when c <= '9' then 27 else ord(c) - 97 end as code, count(*) as n
    from (select id, unnest(string_split(name_key, '')) as c from named)
    group by all
),
-- bag: bit code for each letter the key holds, bit 28 + code for a second copy.
-- A NULL key has no letters and drops out here.
keyed as (
    select n.id, n.referrer, n.npi, n.name_key,
        left(n.name_key, 1) as first_block,
        left(split_part(n.name_key, ' ', -1), 3) as last_block,
        length(n.name_key) - bit_count(l.bag) as extra,
        1 / length(n.name_key) as inv_len,
        l.bag
    from named n
    join (
        select id, bit_or((1::BIGINT << code) | (case when n >= 2 then 1::BIGINT << (code + 28) else 0 end)) as bag
        from letters
        group by id
    ) l using (id)
),
-- The bound (jaro_winkler_may_reach, in macros.sql) is a plain filter with the cutoff in
-- it, not joined in from a one-row CTE: DuckDB ran that join as a nested loop over the
-- 33.5M blocked pairs (2.4 s of CPU against 1.9 s as a filter).
pairs as (
    select a.id as id_a, b.id as id_b
    from keyed a join keyed b on a.first_block = b.first_block and a.id < b.id
    where jaro_winkler_may_reach(a.extra, a.bag, a.inv_len, b.extra, b.bag, b.inv_len, getvariable('near_duplicate_cutoff'))
    union
    select a.id, b.id
    from keyed a join keyed b on a.last_block = b.last_block and a.id < b.id
    where jaro_winkler_may_reach(a.extra, a.bag, a.inv_len, b.extra, b.bag, b.inv_len, getvariable('near_duplicate_cutoff'))
),
compared as (
    select a.referrer as referrer_a, b.referrer as referrer_b,
        -- The cutoff passed in lets the comparison stop early on pairs that cannot reach it.
        jaro_winkler_similarity(a.name_key, b.name_key, getvariable('near_duplicate_cutoff')) as similarity
    from pairs p
    join keyed a on a.id = p.id_a
    join keyed b on b.id = p.id_b
    where (a.npi is null or b.npi is null or a.npi = b.npi)
),
-- Names a front desk types for one referrer that Jaro-Winkler scores low: the same
-- words in another order ('Carla Diaz (Hillcrest Elementary)' / 'Hillcrest
-- Elementary - Ms. Carla Diaz'), or the same name but for a part in parentheses
-- ('Dr. Jane Smith (Pediatrics)' / 'Jane Smith, MD': 0.895). Such names are keyed
-- by their words in order, once as written and once without the parentheses (not
-- the '(NPI …)' or '(no NPI)' the tool adds to tell two NPIs apart), and listed
-- whatever their similarity: an equi-join on the referrers, not on the pairs.
-- Not merged: 'EAP (Magellan)' and 'EAP (ComPsych)' are two referrers.
word_keys as (
    select id, word_key
    from (
        select id, unnest([
            array_to_string(list_sort(string_split(name_key, ' ')), ' '),
            case when not regexp_matches(referrer, '\((no NPI|NPI [0-9]{10})\)$') and contains(referrer, '(')
                 then array_to_string(list_sort(name_tokens(regexp_replace(referrer, '\([^)]*(\)|$)', ' ', 'g'))), ' ') end]) as word_key
        from keyed
    )
    where word_key <> ''
),
same_words as (
    select distinct a.id as id_a, b.id as id_b
    from word_keys a join word_keys b on a.word_key = b.word_key and a.id < b.id
),
worded as (
    select a.referrer as referrer_a, b.referrer as referrer_b, jaro_winkler_similarity(a.name_key, b.name_key) as similarity
    from same_words p
    join keyed a on a.id = p.id_a
    join keyed b on b.id = p.id_b
    where (a.npi is null or b.npi is null or a.npi = b.npi)
)
select referrer_a, referrer_b, round(max(similarity), 3) as similarity
from (
    select * from compared where similarity >= getvariable('near_duplicate_cutoff')
    union all
    select * from worded
)
group by referrer_a, referrer_b
order by similarity desc, referrer_a, referrer_b
