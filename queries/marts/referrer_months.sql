-- referrer_months: the spread measure and the stage of every referrer (channels never
-- get one) at every month end from its first referral to the report month.
--
-- N is the referrals in the window with an assigned clinician (see referrals_to_date).
-- The window at month m is the trailing window_months complete months ending on m's
-- last day. Counts are summed over a dense referrer x month grid with window
-- functions; per-clinician counts are carried as changes (see clinician_changes), so
-- the cost grows with the referrals and the grid, never with their product.
--   point_person_share = referrals to the point person at m (requested clinician when
--                        one was requested, else assigned) / N
--   practice_share     = referrals addressed to the practice / referrals whose request
--                        is known; NULL when none is known (no referred-to field)
--   coc                = (sum n_c^2 - N) / (N (N - 1)) over assigned clinicians, N >= 2
--   effective_clinicians = N (N - 1) / (sum n_c^2 - N) = 1 / coc; NULL when coc is 0
--                        (infinitely many: it passes any minimum) or NULL
-- Stage 3 when practice_share >= stage3_practice_share, or, when practice_share is
-- NULL, N >= stage3_min_referrals, effective clinicians >= stage3_min_effective (COC 0
-- counts as infinite) and point-person share < stage3_max_pp_share; stage 1 when
-- point-person share >= stage1_pp_share; else 2. NULL (inactive) when N = 0.
-- low_evidence when 0 < N < low_evidence_below.
with params as (
    select
        getvariable('report_month')::DATE as report_month,
        getvariable('window_months')::INTEGER as window_months,
        getvariable('stage3_practice_share')::DOUBLE as stage3_practice_share,
        getvariable('stage3_min_referrals')::INTEGER as stage3_min_referrals,
        getvariable('stage3_min_effective')::DOUBLE as stage3_min_effective,
        getvariable('stage3_max_pp_share')::DOUBLE as stage3_max_pp_share,
        getvariable('stage1_pp_share')::DOUBLE as stage1_pp_share,
        getvariable('low_evidence_below')::INTEGER as low_evidence_below
),

-- A referral is measured once a clinician is assigned. A client no appointment or
-- claim names a clinician for yet (an intake booked into an open slot) says nothing
-- yet about the point person or the spread: counted, it would lower the point-person
-- share, so move the stage, and move it back the night a clinician is assigned. It
-- counts in the volumes (monthly_volume) and is measured from the night it has one.
referrals_to_date as (
    select f.*
    from referral_facts f, params p
    where f.source_kind = 'referrer'
      and f.referral_date <= last_day(p.report_month)
      and f.assigned_clinician is not null
),

-- The windows below partition by referrer and clinician. Sorting by names costs
-- twice what sorting by numbers does (at 10M rows of exports, 1M grid rows), so
-- referrers and clinicians get a number here and their names back at the end.
referrer_ids as (
    select referrer, row_number() over ()::INTEGER as rid
    from (select distinct referrer from point_persons)
),

clinician_ids as (
    select clinician, row_number() over ()::INTEGER as cid
    from (
        select assigned_clinician as clinician from referrals_to_date
        union select pp_target from referrals_to_date
        union select point_person from point_persons
    )
    where clinician is not null
),

facts as (
    select r.rid, f.referral_month as month, f.requested_known, f.requested_practice,
        c.cid as clinician, t.cid as pp_target
    from referrals_to_date f
    join referrer_ids r on r.referrer = f.referrer
    left join clinician_ids c on c.clinician = f.assigned_clinician
    left join clinician_ids t on t.clinician = f.pp_target
),

grid as (
    select r.rid, g.month, g.point_person, g.point_person_source, c.cid as pp
    from point_persons g
    join referrer_ids r on r.referrer = g.referrer
    left join clinician_ids c on c.clinician = g.point_person
),

monthly as (
    select
        rid,
        month,
        count(*) as n,
        count(*) filter (where requested_known) as known,
        count(*) filter (where requested_known and requested_practice) as practice
    from facts
    group by rid, month
),

-- n_c(m), the referrals to clinician c in the window at m, only changes in the month a
-- month's referrals enter the window and window_months later, when they leave it. So
-- the sums over clinicians are carried as changes at those months (entering +n,
-- leaving -n) and added up along the grid: the cost grows with the referrals, not
-- with referrals x window_months.
per_clinician_month as (
    select rid, clinician, month, count(*) as n
    from facts
    group by all
),

clinician_changes as (
    select rid, clinician, month, sum(delta) as delta
    from (
        select rid, clinician, month, n as delta from per_clinician_month
        union all
        select rid, clinician, (month + to_months(getvariable('window_months')::INTEGER))::DATE, -n
        from per_clinician_month
    )
    group by all
),

clinician_counts as (
    select
        rid,
        month,
        sum(delta) over (partition by rid, clinician order by month
                         rows between unbounded preceding and current row) as n_after,
        delta
    from clinician_changes
),

spread_changes as (
    select
        rid,
        month,
        sum(n_after * n_after - (n_after - delta) * (n_after - delta)) as sum_sq_delta,
        sum((n_after > 0)::INTEGER - (n_after - delta > 0)::INTEGER) as clinicians_delta
    from clinician_counts
    group by all
),

-- Referrals to the point person at m, where the referrer's point person is the same
-- clinician (or none) in every month of its grid, as nearly all are: the referrals
-- that target the grid month's point person (h in windowed), summed in the window
-- below with the counts. A referrer whose point person changes needs the count to
-- the point person at m in months that had another: for each clinician who is ever
-- its point person (one or two), a windowed count along the dense grid, kept where
-- that clinician is the one at m. Equality joins only: the models are built in one
-- transaction, where fresh tables have no statistics and the optimizer would turn an
-- as-of or range join into a nested loop. Computed for every referrer, and joined
-- to the windowed grid afterwards, these took 0.3 s each of a 1.4 s model at 10M
-- exported rows (DuckDB built its hash table on the million grid rows).
per_target_month as (
    select rid, pp_target, month, count(*) as n
    from facts
    group by all
),

changing_pp as (
    select rid
    from grid
    group by rid
    having count(distinct pp) > 1 or (count(pp) > 0 and count(pp) < count(*))
),

point_person_windows as (
    select
        g.rid,
        g.month,
        g.pp,
        pp.pp as target,
        sum(coalesce(t.n, 0)) over (
            partition by g.rid, pp.pp order by g.month
            rows between getvariable('window_months')::INTEGER - 1 preceding and current row
        ) as n
    from grid g
    join (select distinct rid, pp from grid where rid in (select rid from changing_pp)) pp on pp.rid = g.rid
    left join per_target_month t
        on t.rid = g.rid
        and t.pp_target = pp.pp
        and t.month = g.month
),

point_person_counts as (
    select rid, month, n from point_person_windows where target = pp
),

-- point_persons has one row per referrer and month, no gaps: the grid. The window sums
-- and the spread's running sums along it are one select: both windows share the
-- partition and order, so DuckDB sorts once. The window's sums are packed into one
-- HUGEINT per frame, 32 bits a count (referrals, requests known, to the practice, to
-- the same point person; clinicians, then the sum of squares above them), as a
-- window's cost grows with its aggregates: every count and every partial sum along
-- the grid is a count of referrals at or above 0 (and below 2^31), so each field
-- reads back exactly. At 10M exported rows the model took 2.2 against 3.0 CPU-seconds.
windowed as (
    select
        g.rid,
        g.month,
        g.point_person,
        g.pp,
        g.point_person_source,
        coalesce(m.n, 0) as this_month,
        x.n as to_pp_changing,
        sum(coalesce(m.n, 0) + coalesce(m.known, 0) * 4294967296::HUGEINT
            + coalesce(m.practice, 0) * 18446744073709551616::HUGEINT
            + coalesce(h.n, 0) * 79228162514264337593543950336::HUGEINT) over w as counts,
        sum(coalesce(c.clinicians_delta + c.sum_sq_delta * 4294967296::HUGEINT, 0)) over r as spread
    from grid g
    left join monthly m on m.rid = g.rid and m.month = g.month
    -- the month's referrals that target its point person
    left join per_target_month h on h.rid = g.rid and h.month = g.month and h.pp_target = g.pp
    left join point_person_counts x on x.rid = g.rid and x.month = g.month
    left join spread_changes c on c.rid = g.rid and c.month = g.month
    window
        w as (
            partition by g.rid order by g.month
            rows between getvariable('window_months')::INTEGER - 1 preceding and current row
        ),
        r as (partition by g.rid order by g.month rows between unbounded preceding and current row)
),

measured as (
    select
        i.referrer,
        w.month,
        w.point_person,
        w.point_person_source,
        w.this_month::BIGINT as this_month,
        (w.counts & 4294967295)::BIGINT as n,
        ((w.counts >> 32) & 4294967295)::BIGINT as known,
        ((w.counts >> 64) & 4294967295)::BIGINT as practice,
        (w.spread & 4294967295)::BIGINT as clinicians,
        (w.spread >> 32)::BIGINT as sum_sq,
        -- A month without a point person counts none (no referral targets NULL).
        coalesce(w.to_pp_changing, w.counts >> 96)::BIGINT as to_pp
    from windowed w
    join referrer_ids i on i.rid = w.rid
),

shares as (
    select
        *,
        case when n > 0 then to_pp / n end as point_person_share,
        case when known > 0 then practice / known end as practice_share,
        case when n >= 2 then (sum_sq - n) / (n * (n - 1)) end as coc,
        -- One division of integers, so that e.g. exactly 3 compares equal to 3.
        case when n >= 2 and sum_sq > n then (n * (n - 1)) / (sum_sq - n) end as effective_clinicians
    from measured
)

select
    s.referrer,
    s.month,
    last_day(s.month) as month_end,
    s.n::INTEGER as referrals,
    s.clinicians::INTEGER as clinicians,
    s.point_person,
    s.point_person_share,
    s.practice_share,
    s.coc,
    s.effective_clinicians,
    case
        when s.n = 0 then null
        when s.practice_share >= p.stage3_practice_share then 3
        when s.practice_share is null
            and s.n >= p.stage3_min_referrals
            and (s.coc = 0 or s.effective_clinicians >= p.stage3_min_effective)
            and s.point_person_share < p.stage3_max_pp_share then 3
        when s.point_person_share >= p.stage1_pp_share then 1
        else 2
    end::INTEGER as stage,
    s.n > 0 and s.n < p.low_evidence_below as low_evidence,
    s.this_month::INTEGER as referrals_this_month,
    s.to_pp::INTEGER as point_person_referrals,
    s.practice::INTEGER as practice_referrals,
    s.known::INTEGER as requests_known,
    s.point_person_source
from shares s, params p
