"""The 住建 前置库 (front exchange database) as the construction-project approval system
(工程建设项目审批管理系统) fills it: SPGL_* tables after the data-sharing standard, plus two
tables for applications coming down from the unified platform.

Follows REFERENCE.md §1 [AP SpglEntity / domain/spgl/*.java]: table and column names,
the columns every table carries (LSH, DFSJZJ, XZQHDM, SJYXBS, SJWXYY, SJSCZT, SBYY, SCSJ,
GXSJ), DATE columns for yyyy-mm-dd values and datetimes for BLSJ.
Invented here: LSH as an auto-increment integer (the standard's type is not confirmed),
the column sizes (SBYY 500 characters), SLFS 5 移动端 / 6 自助终端 beside aplanmis's 1 窗口 /
4 网上, the columns the monthly supervision report needs that the standard does not name
(SFYCSL 是否一窗受理 and CLQD 办理材料清单 on 事项办理, XCCS 到现场次数 on 办理详细), and the two tables TB_SQXXB (申请信息表, inbound
applications) and TB_SQHZXXB (申请回执信息表, the department's receipts)."""
from __future__ import annotations

import sqlalchemy as sa

SBYY_LENGTH = 500

metadata = sa.MetaData()

# SQLite only makes INTEGER PRIMARY KEY an auto-increment rowid; elsewhere LSH is a BIGINT.
_LSH = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _common() -> list[sa.Column]:
    """The exchange columns every SPGL table has."""
    return [
        sa.Column("LSH", _LSH, primary_key=True, autoincrement=True, comment="流水号"),
        sa.Column("DFSJZJ", sa.String(64), nullable=False, comment="地方数据主键"),
        sa.Column("XZQHDM", sa.String(6), nullable=False, comment="行政区划代码"),
        sa.Column("SJYXBS", sa.Integer, nullable=False, server_default="1", comment="数据有效标识 1有效 0无效"),
        sa.Column("SJWXYY", sa.String(200), comment="数据无效原因"),
        sa.Column("SJSCZT", sa.Integer, nullable=False, server_default="0",
                  comment="数据上传状态 0未上传 3成功 2失败"),
        sa.Column("SBYY", sa.String(SBYY_LENGTH), comment="失败原因"),
        sa.Column("SCSJ", sa.DateTime, comment="上传时间"),
        sa.Column("GXSJ", sa.DateTime, comment="更新时间"),
    ]


def _table(name: str, comment: str, *columns: sa.Column, indexes: tuple[str, ...] = ()) -> sa.Table:
    t = sa.Table(name, metadata, *_common(), *columns, comment=comment)
    sa.Index(f"IX_{name}_SJSCZT", t.c.SJSCZT, t.c.LSH)
    for col in indexes:
        sa.Index(f"IX_{name}_{col}", t.c[col])
    return t


project = _table(
    "SPGL_XMJBXXB", "项目基本信息表",
    sa.Column("XMDM", sa.String(50), nullable=False, comment="投资项目统一代码"),
    sa.Column("XMMC", sa.String(200), nullable=False, comment="项目名称"),
    sa.Column("GCDM", sa.String(60), nullable=False, comment="工程代码"),
    sa.Column("GCFW", sa.String(500), comment="工程范围"),
    sa.Column("SPLCLX", sa.Integer, comment="审批流程类型"),
    sa.Column("NKGSJ", sa.Date, comment="拟开工时间"),
    sa.Column("NJCSJ", sa.Date, comment="拟建成时间"),
    sa.Column("ZTZE", sa.Numeric(18, 4), comment="总投资额(万元)"),
    sa.Column("JSDDXZQH", sa.String(6), comment="建设地点行政区划"),
    sa.Column("JSDD", sa.String(200), comment="建设地点"),
    sa.Column("JSGMJNR", sa.String(1000), comment="建设规模及内容"),
    sa.Column("YDMJ", sa.Numeric(18, 2), comment="用地面积(平方米)"),
    sa.Column("JZMJ", sa.Numeric(18, 2), comment="建筑面积(平方米)"),
    sa.Column("SBSJ", sa.Date, comment="申报时间"),
    indexes=("GCDM", "XMDM"),
)

unit = _table(
    "SPGL_XMDWXXB", "项目单位信息表",
    sa.Column("XMDM", sa.String(50), nullable=False, comment="投资项目统一代码"),
    sa.Column("DWTYSHXYDM", sa.String(50), comment="单位统一社会信用代码"),
    sa.Column("DWMC", sa.String(200), comment="单位名称"),
    sa.Column("DWLX", sa.Integer, comment="单位类型 1建设 2施工 3勘察 4设计 5监理"),
    indexes=("XMDM",),
)

case = _table(
    "SPGL_XMSPSXBLXXB", "项目审批事项办理信息表",
    sa.Column("GCDM", sa.String(60), nullable=False, comment="工程代码"),
    sa.Column("SPSXBM", sa.String(50), nullable=False, comment="审批事项编码"),
    sa.Column("SPSXBBH", sa.Numeric(6, 1), comment="审批事项版本号"),
    sa.Column("SPLCBM", sa.String(50), comment="审批流程编码"),
    sa.Column("SPLCBBH", sa.Numeric(6, 1), comment="审批流程版本号"),
    sa.Column("SPSXSLBM", sa.String(50), nullable=False, comment="审批事项实例编码"),
    sa.Column("SPBMBM", sa.String(50), comment="审批部门编码"),
    sa.Column("SPBMMC", sa.String(100), comment="审批部门名称"),
    sa.Column("SLFS", sa.Integer, comment="受理方式 1窗口 4网上 5移动端 6自助终端"),
    sa.Column("GKFS", sa.Integer, comment="公开方式"),
    sa.Column("SXBLSX", sa.Integer, comment="事项办理时限(工作日)"),
    sa.Column("SFYCSL", sa.Integer, comment="是否一窗受理 1是 0否, 窗口受理的才填 (invented)"),
    sa.Column("CLQD", sa.Text, comment="办理材料清单 (JSON: CLMC 材料名称, SFBX 是否必要, SFTJ 是否提交, "
                                       "FYLX 复用类型 1电子证照 2共享数据) (invented)"),
    indexes=("SPSXSLBM", "GCDM"),
)

detail = _table(
    "SPGL_XMSPSXBLXXXXB", "项目审批事项办理详细信息表",
    sa.Column("GCDM", sa.String(60), nullable=False, comment="工程代码"),
    sa.Column("SPSXSLBM", sa.String(50), nullable=False, comment="审批事项实例编码"),
    sa.Column("BLCS", sa.String(100), comment="办理处(科)室"),
    sa.Column("BLR", sa.String(50), comment="办理人"),
    sa.Column("BLZT", sa.Integer, nullable=False, comment="办理状态"),
    sa.Column("BLYJ", sa.String(1000), comment="办理意见"),
    sa.Column("BLSJ", sa.DateTime, nullable=False, comment="办理时间"),
    sa.Column("XCCS", sa.Integer, comment="申请人到现场次数, 截至本环节 (invented)"),
    indexes=("SPSXSLBM",),
)

document = _table(
    "SPGL_XMSPSXPFWJXXB", "项目审批事项批复文件信息表",
    sa.Column("GCDM", sa.String(60), nullable=False, comment="工程代码"),
    sa.Column("SPSXSLBM", sa.String(50), nullable=False, comment="审批事项实例编码"),
    sa.Column("PFRQ", sa.Date, comment="批复日期"),
    sa.Column("PFWH", sa.String(100), comment="批复文号"),
    sa.Column("PFWJBT", sa.String(300), comment="批复文件标题"),
    sa.Column("PFWJYXQX", sa.Date, comment="批复文件有效期限, 9999-01-01 无期限"),
    sa.Column("FJMC", sa.String(200), comment="附件名称"),
    sa.Column("FJLX", sa.String(20), comment="附件类型"),
    sa.Column("FJID", sa.String(200), comment="附件ID/访问地址"),
    indexes=("SPSXSLBM",),
)

# --- invented: the southbound pair --------------------------------------------------
applications = _table(
    "TB_SQXXB", "申请信息表 (invented): applications the hub inserts for the department",
    sa.Column("SQBH", sa.String(64), nullable=False, unique=True, comment="申请编号 (平台申办流水号)"),
    sa.Column("SPSXBM", sa.String(50), nullable=False, comment="审批事项编码"),
    sa.Column("SQRLX", sa.Integer, comment="申请人类型 1个人 2企业 3其他"),
    sa.Column("SQRMC", sa.String(200), comment="申请人名称"),
    sa.Column("SQRZJLX", sa.String(10), comment="申请人证件类型 A05300统一社会信用代码 A01100居民身份证"),
    sa.Column("SQRZJHM", sa.String(50), comment="申请人证件号码"),
    sa.Column("LXDH", sa.String(30), comment="联系电话"),
    sa.Column("SQFS", sa.Integer, comment="申请方式 1窗口 4网上 5移动端 6自助终端"),
    sa.Column("SQSJ", sa.DateTime, comment="申请时间"),
    sa.Column("SQNR", sa.Text, comment="申请表单 (JSON)"),
    sa.Column("CLQD", sa.Text, comment="材料清单 (JSON)"),
    sa.Column("SPSXSLBM", sa.String(50), comment="受理编号, written back by the department"),
    sa.Column("SLSJ", sa.DateTime, comment="受理时间, written back by the department"),
)

receipts = _table(
    "TB_SQHZXXB", "申请回执信息表 (invented): the department's acceptance receipts",
    sa.Column("SQBH", sa.String(64), nullable=False, comment="申请编号 (平台申办流水号)"),
    sa.Column("SPSXSLBM", sa.String(50), nullable=False, comment="受理编号 (审批事项实例编码)"),
    sa.Column("SPSXBM", sa.String(50), nullable=False, comment="审批事项编码"),
    sa.Column("SPBMMC", sa.String(100), comment="审批部门名称"),
    sa.Column("SLR", sa.String(50), comment="受理人"),
    sa.Column("SLSJ", sa.DateTime, nullable=False, comment="受理时间"),
    sa.Column("SLYJ", sa.String(500), comment="受理意见"),
)

SPGL_TABLES = (project, unit, case, detail, document)
TABLES = {t.name: t for t in metadata.sorted_tables}


def make_engine(url: str) -> sa.Engine:
    if url.startswith("sqlite"):
        engine = sa.create_engine(url, connect_args={"timeout": 30})

        @sa.event.listens_for(engine, "connect")
        def _wal(dbapi_conn, _record):
            # WAL lets the hub read while the department writes, as a server database would.
            dbapi_conn.execute("PRAGMA journal_mode=WAL")
            dbapi_conn.execute("PRAGMA busy_timeout=30000")
        return engine
    return sa.create_engine(url, pool_pre_ping=True)


def recreate(engine: sa.Engine) -> None:
    """The sim starts EMPTY: its own tables dropped and made again (nothing else is touched)."""
    metadata.drop_all(engine)
    metadata.create_all(engine)
