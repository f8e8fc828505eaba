-- 重点监管对象 as of $as_of: on black lists of two or more key domains on that date, or more than
-- $max_serious serious penalties decided in the twelve months to it (after $since, up to $as_of).
SELECT subject_key, CAST($as_of AS DATE) AS as_of, black_list_domains, serious_penalties,
       CASE WHEN black_list_domains >= 2 AND serious_penalties > CAST($max_serious AS BIGINT)
                THEN 'black_lists,serious_penalties'
            WHEN black_list_domains >= 2 THEN 'black_lists'
            ELSE 'serious_penalties' END AS reasons
FROM (
    SELECT subject_key, sum(black_list_domains) AS black_list_domains,
           sum(serious_penalties) AS serious_penalties
    FROM (
        SELECT subject_key, count(DISTINCT domain) AS black_list_domains, 0 AS serious_penalties
        FROM (
{on_list}
        ) listed
        WHERE list_kind = 'black_list'
        GROUP BY subject_key
        UNION ALL
        SELECT subject_key, 0, count(*)
        FROM mart_subject_facts
        WHERE category = 'penalty' AND serious
          AND fact_date > CAST($since AS DATE) AND fact_date <= CAST($as_of AS DATE)
        GROUP BY subject_key
    ) parts
    GROUP BY subject_key
) counted
WHERE black_list_domains >= 2 OR serious_penalties > CAST($max_serious AS BIGINT)
