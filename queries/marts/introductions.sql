-- introductions: for each referrer flagged ready in referrer_status, up to three
-- colleagues of its point person to introduce, best first, with the reasons in words.
--
-- Colleagues: clinicians on the roster at the report month (started by its last day,
-- not ended before its first), other than the point person and those the roster says
-- are not accepting new clients; in installations of
-- more than 200 clinicians, the 200 with the most room (see colleague_pool). A colleague is suggested
-- only with at least one reason:
--   payers     the colleague bills payers that this referrer's clients carry: its
--              roster payers plus every payer on claim lines it rendered, matched
--              without regard to case, against the payers on all claim lines of the
--              referrer's clients in the window; counted as clients covered out of
--              the clients with a payer on file
--   room       fewer new clients (referrals of any source assigned to it) in the last
--              recent_days than the median over the colleagues on the roster, or the
--              roster says accepting; a roster that says not accepting wins over the
--              count, so nobody full is suggested for room
--   specialty  shares a roster specialty with the point person (case-insensitive)
-- A ready referrer for whom no colleague has a reason still gets one row, with
-- rank and colleague empty, so the ready list is complete.
-- Score = 2 x share of clients covered + 1 for room + 1 for a shared specialty: being
-- able to take the referrer's insurance matters most. Ties go to the colleague with
-- fewer new clients, then by name.
with params as (
    select
        getvariable('report_month')::DATE as report_month,
        last_day(getvariable('report_month')::DATE) as report_end,
        (last_day(getvariable('report_month')::DATE) - to_days(getvariable('recent_days')::INTEGER))::DATE as recent_after,
        getvariable('recent_days')::INTEGER as recent_days,
        getvariable('window_months')::INTEGER as window_months
),

ready as (
    select referrer, point_person, referrals, last_referral
    from referrer_status
    where list_contains(string_split(flags, ';'), 'ready')
),

window_clients as (
    select r.referrer, r.client_key
    from referrals r
    join ready using (referrer)
    cross join params p
    where r.referral_month > p.report_month - to_months(p.window_months)
      and r.referral_date <= p.report_end
),

-- Who paid for whom: one row per client, clinician and payer, however many
-- claim lines they share (the claim lines are read once, not per question).
claim_payers as (
    select distinct p.client_key, s.clinician, lower(p.payer) as payer_key, p.payer
    from client_payers p
    join stg_clinician_spellings s
        on s.export = 'billing' and s.provider is not distinct from p.provider
        and s.provider_npi is not distinct from p.provider_npi
),

-- Payers of the ready referrers' clients.
referrer_client_payers as (
    select distinct w.referrer, w.client_key, c.payer_key
    from window_clients w
    join claim_payers c on c.client_key = w.client_key
),

-- A payer is shown by the spelling on most client and clinician pairs; a tie goes
-- to the first in alphabetical order, so every build shows the same.
payer_names as (
    select payer_key, arg_min(payer, {'n': -n, 'payer': payer}) as payer
    from (select payer_key, payer, count(*) as n from claim_payers group by all)
    group by payer_key
),

insured as (
    select referrer, count(distinct client_key) as clients
    from referrer_client_payers
    group by referrer
),

colleagues as (
    select c.clinician, c.specialties, c.payers, c.accepting
    from stg_clinicians c, params p
    where (c.start_date is null or c.start_date <= p.report_end)
      and (c.end_date is null or c.end_date >= p.report_month)
),

colleague_payers as (
    select clinician, lower(trim(unnest(payers))) as payer_key from colleagues
    union
    select distinct cp.clinician, cp.payer_key
    from claim_payers cp
    join colleagues c on c.clinician = cp.clinician
),

recent_new as (
    select r.assigned_clinician as clinician, count(*) as n
    from referrals r, params p
    where r.referral_date > p.recent_after and r.referral_date <= p.report_end
    group by r.assigned_clinician
),

new_clients as (
    select c.clinician, coalesce(rn.n, 0) as n
    from colleagues c
    left join recent_new rn on rn.clinician = c.clinician
),

median_new as (
    select median(n)::DOUBLE as median from new_clients
),

-- The colleagues suggestions are drawn from: all of them in a practice of
-- up to 200 clinicians; in a larger installation the 200 with the most room,
-- so the work stays proportional to the referrers, not referrers x clinicians.
colleague_pool as (
    select c.*
    from colleagues c
    join new_clients nc using (clinician)
    cross join median_new m
    order by (c.accepting is distinct from false and (c.accepting or nc.n < m.median)) desc, nc.n, c.clinician
    limit 200
),

-- A colleague the roster says is not accepting new clients is never suggested: an
-- introduction to someone who cannot take the referrer's clients does harm.
candidates as (
    select rd.referrer, rd.point_person, rd.referrals, rd.last_referral, c.clinician as colleague,
           c.specialties, c.accepting
    from ready rd
    join colleague_pool c on c.clinician <> coalesce(rd.point_person, '') and c.accepting is distinct from false
),

-- Payer sets as bit strings, one bit per payer of the ready referrers' clients (the
-- only payers a colleague can share with them): intersecting two sets is one AND,
-- where lists took a list intersection per candidate and payer set (2.3M at 10M
-- exported rows) and a list of lists per candidate.
payer_bits as (
    select payer_key, (row_number() over (order by payer_key) - 1)::INTEGER as bit
    from (select distinct payer_key from referrer_client_payers)
),

-- The empty set: every bit clear, one per payer (at least one: DuckDB has no empty bit string).
empty_set as (
    select repeat('0', greatest(count(*), 1)::INTEGER)::BIT as bits from payer_bits
),

-- Clients grouped by the set of payers they carry: a referrer has a handful
-- of such sets, so matching them against each colleague's payers is cheap
-- however many clients there are.
payer_sets as (
    select referrer, payer_set, count(*) as clients
    from (
        select c.referrer, c.client_key, bit_or(set_bit(z.bits, b.bit, 1)) as payer_set
        from referrer_client_payers c
        join payer_bits b using (payer_key)
        cross join empty_set z
        group by c.referrer, c.client_key
    )
    group by referrer, payer_set
),

colleague_payer_sets as (
    select cp.clinician, bit_or(set_bit(z.bits, b.bit, 1)) as payers
    from colleague_payers cp
    join payer_bits b using (payer_key)
    cross join empty_set z
    group by cp.clinician
),

-- The test on the intersection is an aggregate FILTER, computed once per candidate
-- and payer set.
payer_fit as (
    select
        referrer,
        colleague,
        sum(clients) filter (where bit_count(common) > 0) as covered,
        bit_or(common) as common_payers
    from (
        select k.referrer, k.colleague, ps.clients, ps.payer_set & cp.payers as common
        from candidates k
        join payer_sets ps on ps.referrer = k.referrer
        join colleague_payer_sets cp on cp.clinician = k.colleague
    )
    group by referrer, colleague
    having count(*) filter (where bit_count(common) > 0) > 0
),

-- Specialties as bit strings too, one bit per specialty on the roster (matched
-- without regard to case): a shared specialty is one AND per candidate, where
-- joining the candidates' point-person specialties with the colleagues' paired
-- 1.3M rows at 10M exported rows. The names are spelled out for the kept
-- suggestions only.
colleague_specialties as (
    select distinct c.clinician, lower(trim(s.s)) as key, trim(s.s) as specialty
    from colleagues c
    cross join unnest(c.specialties) as s(s)
),

specialty_bits as (
    select key, (row_number() over (order by key) - 1)::INTEGER as bit
    from (
        select key from colleague_specialties
        union
        select lower(trim(s.s)) from stg_clinicians pp cross join unnest(pp.specialties) as s(s)
    )
),

no_specialty as (
    select repeat('0', greatest(count(*), 1)::INTEGER)::BIT as bits from specialty_bits
),

colleague_specialty_sets as (
    select cs.clinician, bit_or(set_bit(z.bits, b.bit, 1)) as specialties
    from colleague_specialties cs
    join specialty_bits b using (key)
    cross join no_specialty z
    group by cs.clinician
),

point_person_specialty_sets as (
    select rd.referrer, bit_or(set_bit(z.bits, b.bit, 1)) as specialties
    from ready rd
    join stg_clinicians pp on pp.clinician = rd.point_person
    cross join unnest(pp.specialties) as s(s)
    join specialty_bits b on b.key = lower(trim(s.s))
    cross join no_specialty z
    group by rd.referrer
),

scored as (
    select
        k.*,
        coalesce(pf.covered, 0) as covered,
        coalesce(i.clients, 0) as insured,
        pf.common_payers,
        case when bit_count(ps.specialties & cs.specialties) > 0 then ps.specialties & cs.specialties end as common_specialties,
        nc.n as new_clients,
        m.median as median_new,
        k.accepting is distinct from false and (k.accepting or nc.n < m.median) as has_room,
        coalesce(pf.covered / nullif(i.clients, 0), 0) * 2
            + case when k.accepting is distinct from false and (k.accepting or nc.n < m.median) then 1 else 0 end
            + case when bit_count(ps.specialties & cs.specialties) > 0 then 1 else 0 end as score
    from candidates k
    left join payer_fit pf on pf.referrer = k.referrer and pf.colleague = k.colleague
    left join point_person_specialty_sets ps on ps.referrer = k.referrer
    left join colleague_specialty_sets cs on cs.clinician = k.colleague
    left join insured i on i.referrer = k.referrer
    join new_clients nc on nc.clinician = k.colleague
    cross join median_new m
),

-- The best three per referrer, as a top-3 aggregate: sorting every candidate
-- of every referrer (677k at 10M exported rows) only to keep three took twice the time.
top3 as (
    select referrer, arg_min(s, {'score': -s.score, 'new_clients': s.new_clients, 'colleague': s.colleague}, 3) as best
    from scored s
    where score > 0
    group by referrer
),

ranked as (
    select unnest(best[i]), i as rank
    from top3, range(1, len(best) + 1) as t(i)
)

select
    r.referrer,
    r.point_person,
    r.referrals,
    r.last_referral,
    r.rank::INTEGER as rank,
    r.colleague,
    concat_ws('; ',
        case when r.covered > 0 then format('bills {} ({} of {} of this referrer''s clients{})',
            array_to_string(r.payers, ', '), r.covered, r.insured,
            case when r.insured < r.referrals then ' with a payer on file' else '' end) end,
        case when r.has_room then
            case
                when r.new_clients < r.median_new and r.accepting then format('has room ({} new client{} in {} days vs median {:g}; roster says accepting)',
                    r.new_clients, case when r.new_clients = 1 then '' else 's' end, p.recent_days, r.median_new)
                when r.new_clients < r.median_new then format('has room ({} new client{} in {} days vs median {:g})',
                    r.new_clients, case when r.new_clients = 1 then '' else 's' end, p.recent_days, r.median_new)
                else 'has room (roster says accepting new clients)'
            end
        end,
        case when r.shared is not null then 'shares specialty: ' || array_to_string(r.shared, ', ') end
    ) as reasons
from (
    -- Payer names only for the suggestions that are kept.
    select r.* exclude (common_payers, common_specialties),
        (select list(pn.payer order by pn.payer) from payer_bits b join payer_names pn using (payer_key)
         where get_bit(r.common_payers, b.bit) = 1) as payers,
        (select list(distinct cs.specialty order by cs.specialty) from colleague_specialties cs join specialty_bits b using (key)
         where cs.clinician = r.colleague and get_bit(r.common_specialties, b.bit) = 1) as shared
    from ranked r
    where r.rank <= 3
) r, params p

union all

select rd.referrer, rd.point_person, rd.referrals, rd.last_referral, NULL::INTEGER as rank, NULL as colleague,
    'no colleague on the roster bills this referrer''s payers, has room or shares a specialty yet' as reasons
from ready rd
where rd.referrer not in (select referrer from ranked)
