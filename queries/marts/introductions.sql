-- introductions: for each referrer flagged ready in referrer_status, up to three
-- colleagues of its point person to introduce, best first, with the reasons in words.
--
-- Colleagues: clinicians on the roster at the report month (started by its last day,
-- not ended before its first), other than the point person. A colleague is suggested
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

claim_payers as (
    select client_key, clinician, lower(trim(payer)) as payer_key, trim(payer) as payer
    from stg_claim_lines
    where nullif(trim(payer), '') is not null
),

-- Payers of the ready referrers' clients, with the spelling most used in billing.
client_payers as (
    select distinct w.referrer, w.client_key, c.payer_key
    from window_clients w
    join claim_payers c on c.client_key = w.client_key
),

payer_names as (
    select payer_key, mode(payer) as payer
    from claim_payers
    group by payer_key
),

insured as (
    select referrer, count(distinct client_key) as clients
    from client_payers
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

new_clients as (
    select c.clinician, count(r.client_key) as n
    from colleagues c
    cross join params p
    left join referrals r
        on r.assigned_clinician = c.clinician
        and r.referral_date > p.recent_after
        and r.referral_date <= p.report_end
    group by c.clinician
),

median_new as (
    select median(n)::DOUBLE as median from new_clients
),

candidates as (
    select rd.referrer, rd.point_person, rd.referrals, rd.last_referral, c.clinician as colleague,
           c.specialties, c.accepting
    from ready rd
    join colleagues c on c.clinician is distinct from rd.point_person
),

payer_fit as (
    select
        k.referrer,
        k.colleague,
        count(distinct cp.client_key) as covered,
        list(distinct pn.payer order by pn.payer) as payers
    from candidates k
    join client_payers cp on cp.referrer = k.referrer
    join colleague_payers co on co.clinician = k.colleague and co.payer_key = cp.payer_key
    join payer_names pn on pn.payer_key = cp.payer_key
    group by k.referrer, k.colleague
),

specialty_fit as (
    select
        k.referrer,
        k.colleague,
        list(distinct trim(s) order by trim(s)) as shared
    from candidates k
    join stg_clinicians pp on pp.clinician = k.point_person
    cross join unnest(k.specialties) as ks(s)
    where list_contains(list_transform(pp.specialties, x -> lower(trim(x))), lower(trim(ks.s)))
    group by k.referrer, k.colleague
),

scored as (
    select
        k.*,
        coalesce(pf.covered, 0) as covered,
        coalesce(i.clients, 0) as insured,
        pf.payers,
        sf.shared,
        nc.n as new_clients,
        m.median as median_new,
        k.accepting is distinct from false and (k.accepting or nc.n < m.median) as has_room,
        coalesce(pf.covered / nullif(i.clients, 0), 0) * 2
            + case when k.accepting is distinct from false and (k.accepting or nc.n < m.median) then 1 else 0 end
            + case when sf.shared is not null then 1 else 0 end as score
    from candidates k
    left join payer_fit pf on pf.referrer = k.referrer and pf.colleague = k.colleague
    left join specialty_fit sf on sf.referrer = k.referrer and sf.colleague = k.colleague
    left join insured i on i.referrer = k.referrer
    join new_clients nc on nc.clinician = k.colleague
    cross join median_new m
),

ranked as (
    select
        *,
        row_number() over (partition by referrer order by score desc, new_clients, colleague) as rank
    from scored
    where score > 0
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
from ranked r, params p
where r.rank <= 3
