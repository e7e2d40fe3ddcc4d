-- The rollups kept before upstream_errors existed count their upstream failures from the log rows still kept.
UPDATE `usage_daily` SET `upstream_errors` = (
	SELECT COUNT(*) FROM `request_log` AS r
	WHERE r.`status` >= 500
	  AND r.`created_at` / 86400000 = `usage_daily`.`day`
	  AND r.`user_id` = `usage_daily`.`user_id`
	  AND r.`key_id` = `usage_daily`.`key_id`
	  AND COALESCE(r.`model`, '') = `usage_daily`.`model`
	  AND COALESCE(r.`tier`, '') = `usage_daily`.`tier`
);
