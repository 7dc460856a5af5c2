/*
 * schema-migrations.h: the migrations compiled in from schema/<track>/NNNN-*.sql
 * by build-aux/sql2c. Only sync/schema.c reads this table.
 */
#ifndef GK_SCHEMA_MIGRATIONS_H
#define GK_SCHEMA_MIGRATIONS_H

struct gk_migration {
	const char *track; /* "records", "server" or "client" */
	int version;	   /* from the file name's number */
	const char *name;  /* the file name, for messages */
	const char *sql;
};

extern const struct gk_migration gk_migrations[];
extern const int gk_nmigrations;

#endif
