"""The Vietnamese names of the audit actions this app records (core.registry.AUDIT_ACTIONS) and of
the messages it causes (core.registry.MESSAGE_KINDS; sent by backoffice.account_services)."""

from chinhquyenso.core.registry import CodeLabels

AUDIT_ACTIONS = CodeLabels(
    exact={
        "user.create": "Tạo tài khoản",
        "user.update": "Sửa tài khoản",
        "user.login_failed": "Đăng nhập sai",
        "user.login_unlocked": "Mở khóa đăng nhập",
        "user.login_oidc": "Đăng nhập bằng định danh điện tử (VNeID)",
        "user.login_oidc_refused": "Từ chối đăng nhập bằng định danh điện tử",
        "user.password_link_register": "Gửi liên kết đặt mật khẩu cho tài khoản mới",
        "user.password_link_reset": "Đặt lại mật khẩu (gửi liên kết đặt mật khẩu mới)",
        "user.password_set": "Đặt mật khẩu qua liên kết",
        "membership.grant": "Giao vai trò tại cơ quan",
        "api_token.issue": "Cấp khóa truy cập API",
        "api_token.revoke": "Thu hồi khóa truy cập API",
    }
)

MESSAGE_KINDS = CodeLabels(exact={"accounts.password_link": "Liên kết đặt mật khẩu cho cán bộ"})
